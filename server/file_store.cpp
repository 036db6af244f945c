#include "server/file_store.h"

#include <openssl/sha.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

namespace ocop::server {

std::string Sha256Hex(const std::string& bytes) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), d);
  static const char k[] = "0123456789abcdef";
  std::string s;
  for (unsigned char c : d) {
    s.push_back(k[c >> 4]);
    s.push_back(k[c & 15]);
  }
  return s;
}

namespace {
int64_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}
}  // namespace

Status FileStore::Init() {
  if (mkdir(dir_.c_str(), 0700) != 0 && errno != EEXIST) return Status::Internal("cannot create " + dir_);
  return Status::Ok();
}

int64_t FileStore::Received(const std::string& sha) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t done = FileSize(Path(sha));
  if (done >= 0) return done;
  int64_t part = FileSize(Path(sha) + ".part");
  return part < 0 ? 0 : part;
}

bool FileStore::Complete(const std::string& sha) {
  std::lock_guard<std::mutex> lock(mu_);
  return FileSize(Path(sha)) >= 0;
}

Status FileStore::Append(const std::string& sha, int64_t size, int64_t offset, const std::string& bytes,
                         int64_t* received) {
  std::lock_guard<std::mutex> lock(mu_);
  if (FileSize(Path(sha)) >= 0) {
    *received = size;
    return Status::Ok();  // already complete: a repeated last chunk changes nothing
  }
  std::string part = Path(sha) + ".part";
  int64_t have = std::max<int64_t>(0, FileSize(part));
  if (offset != have)
    return Status::Precondition("upload of " + sha + " continues at byte " + std::to_string(have) + ", not " +
                                std::to_string(offset));
  if (have + static_cast<int64_t>(bytes.size()) > size)
    return Status::Invalid("upload of " + sha + " goes past its declared size " + std::to_string(size));
  {
    std::ofstream out(part, std::ios::binary | std::ios::app);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) return Status::Internal("cannot write " + part);
  }
  have += static_cast<int64_t>(bytes.size());
  *received = have;
  if (have < size) return Status::Ok();
  std::ifstream in(part, std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  if (Sha256Hex(all.str()) != sha) {
    std::remove(part.c_str());
    *received = 0;
    return Status::Invalid("the uploaded bytes do not match SHA-256 " + sha + "; upload again");
  }
  // Durable before it is reported complete.
  FILE* f = std::fopen(part.c_str(), "rb");
  if (f) {
    fsync(fileno(f));
    std::fclose(f);
  }
  if (std::rename(part.c_str(), Path(sha).c_str()) != 0) return Status::Internal("cannot complete " + sha);
  return Status::Ok();
}

Status FileStore::Read(const std::string& sha, std::string* out) {
  std::lock_guard<std::mutex> lock(mu_);
  std::ifstream in(Path(sha), std::ios::binary);
  if (!in) return Status::NotFound("file " + sha + " is not (completely) on the server");
  std::stringstream all;
  all << in.rdbuf();
  *out = all.str();
  return Status::Ok();
}

}  // namespace ocop::server

namespace ocop::server {

void FileStore::RemoveOlderThan(int64_t age_s) {
  std::lock_guard<std::mutex> lock(mu_);
  DIR* d = opendir(dir_.c_str());
  if (!d) return;
  time_t cutoff = std::time(nullptr) - static_cast<time_t>(age_s);
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string path = dir_ + "/" + e->d_name;
    struct stat st;
    if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < cutoff) std::remove(path.c_str());
  }
  closedir(d);
}

}  // namespace ocop::server
