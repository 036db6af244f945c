// Spreadsheets both ways: CSV as Excel writes it, .xlsx through Poco's Zip and XML.
#include <Poco/Path.h>
#include <Poco/Zip/Compress.h>
#include <gtest/gtest.h>

#include <sstream>

#include "shared/sheet.h"
#include "shared/xlsx.h"

namespace ocop {
namespace {

TEST(SheetTest, CsvAsExcelWritesIt) {
  sheet::Table t;
  // A BOM, ';' separators (Excel in a Vietnamese locale), quotes, a doubled
  // quote, a line break inside quotes, CRLF, a blank line.
  ASSERT_TRUE(sheet::FromCsv("\xEF\xBB\xBFTên;Mô tả\r\n\"HTX \"\"Đôn Nhân\"\"\";\"Ổi\ngiòn\"\r\n\r\nChè;1.500.000\r\n", &t).ok());
  ASSERT_EQ(t.header, (std::vector<std::string>{"Tên", "Mô tả"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0][0].text, "HTX \"Đôn Nhân\"");
  EXPECT_EQ(t.rows[0][1].text, "Ổi\ngiòn");
  EXPECT_EQ(t.rows[1][1].text, "1.500.000");
  EXPECT_EQ(t.row_lines, (std::vector<size_t>{2, 5})) << "the line each row starts on";
  Status s = sheet::FromCsv("a,b\n1,\"open\n", &t);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("line 2"), std::string::npos) << s.message();
  EXPECT_FALSE(sheet::FromCsv("\xff\xfe", &t).ok()) << "not UTF-8";
  EXPECT_FALSE(sheet::FromCsv("", &t).ok());
}

TEST(SheetTest, CsvRoundTrip) {
  sheet::Table t{{"Tên", "Ghi chú"}, {{{"a,b", false}, {"x\"y", false}}, {{"Ổi", false}, {"", false}}}, {}};
  sheet::Table back;
  ASSERT_TRUE(sheet::FromCsv(sheet::ToCsv(t, true), &back).ok());
  EXPECT_EQ(back.header, t.header);
  ASSERT_EQ(back.rows.size(), 2u);
  EXPECT_EQ(back.rows[0][0].text, "a,b");
  EXPECT_EQ(back.rows[0][1].text, "x\"y");
}

TEST(XlsxTest, WrittenAndReadBackWithVietnameseAndNumbers) {
  sheet::Table t{{"Tên sản phẩm", "Giá (đồng)", "Ghi chú"},
                 {{{"Chè Shan tuyết <đặc sản> & quà", false}, {"1500000", true}, {"", false}},
                  {{"Ổi", false}, {"21.4512", true}, {"dòng 2", false}}},
                 {}};
  std::string bytes = xlsx::Write(t, "Phiếu đăng ký ý tưởng sản phẩm OCOP: bản dài");
  ASSERT_EQ(bytes.compare(0, 4, "PK\x03\x04", 4), 0);
  sheet::Table back;
  Status s = xlsx::Read(bytes, &back);
  ASSERT_TRUE(s.ok()) << s.message();
  EXPECT_EQ(back.header, t.header);
  ASSERT_EQ(back.rows.size(), 2u);
  EXPECT_EQ(back.rows[0][0].text, "Chè Shan tuyết <đặc sản> & quà");
  EXPECT_EQ(back.rows[0][1].text, "1500000");
  EXPECT_TRUE(back.rows[0][1].number);
  EXPECT_EQ(back.rows[1][2].text, "dòng 2");
  EXPECT_EQ(back.row_lines, (std::vector<size_t>{2, 3}));
}

std::string Zip(const std::vector<std::pair<std::string, std::string>>& parts) {
  std::ostringstream out;
  Poco::Zip::Compress zip(out, true);
  for (const auto& [path, content] : parts) {
    std::istringstream in(content);
    zip.addFile(in, Poco::DateTime(), Poco::Path(path, Poco::Path::PATH_UNIX));
  }
  zip.close();
  return out.str();
}

TEST(XlsxTest, WhatIsNotAWorkbookIsRefusedWithTheReason) {
  sheet::Table t;
  Status s = xlsx::Read("Tên,Mô tả\n", &t);
  EXPECT_NE(s.message().find("not an .xlsx workbook"), std::string::npos) << s.message();
  s = xlsx::Read(Zip({{"word/document.xml", "<w/>"}}), &t);
  EXPECT_NE(s.message().find("no xl/workbook.xml"), std::string::npos) << s.message();
  // An entity bomb in a sheet: refused before any expansion.
  std::string bomb = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;\">]>"
                     "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData/></worksheet>";
  s = xlsx::Read(Zip({{"xl/workbook.xml", "<workbook/>"}, {"xl/worksheets/sheet1.xml", bomb}}), &t);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("document type"), std::string::npos) << s.message();
  // Damaged bytes.
  std::string good = xlsx::Write(sheet::Table{{"a"}, {{{"1", true}}}, {}}, "x");
  EXPECT_FALSE(xlsx::Read(good.substr(0, good.size() / 2), &t).ok());
}

}  // namespace
}  // namespace ocop
