# ocop_embed(NAME NAMESPACE ROOT FILES...) declares the library ocop_NAME (alias
# ocop::NAME) whose NAMESPACE::Files() holds FILES, keyed by their paths
# relative to ROOT: data and web pages compiled into the binaries, so that
# `ocop` and `ocopd` need no install step and serve nothing from outside.
function(ocop_embed name ns root)
  set(files ${ARGN})
  set(cpp ${CMAKE_CURRENT_BINARY_DIR}/${name}_embedded.cpp)
  set(list ${CMAKE_CURRENT_BINARY_DIR}/${name}_files.txt)
  string(REPLACE ";" "\n" lines "${files}")
  file(WRITE ${list}.new "${lines}")
  file(COPY_FILE ${list}.new ${list} ONLY_IF_DIFFERENT)
  add_custom_command(
    OUTPUT ${cpp}
    COMMAND ${CMAKE_COMMAND} -DOUT=${cpp} -DROOT=${root} -DLIST=${list} -DNS=${ns}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
    DEPENDS ${files} ${list} ${PROJECT_SOURCE_DIR}/cmake/embed.cmake
    COMMENT "Embedding ${name}")
  ocop_library(${name} SOURCES ${cpp})
endfunction()
