#include "shared/media.h"

#include <gtest/gtest.h>

#include <string>

namespace ocop::media {
namespace {

const std::string kJpeg("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01", 12);
const std::string kPng("\x89PNG\r\n\x1A\n\x00\x00\x00\x0DIHDR", 16);
const std::string kWebp("RIFF\x24\x00\x00\x00WEBPVP8 ", 16);

TEST(MediaTest, PhotosAreKnownByTheirFirstBytes) {
  EXPECT_EQ(ImageKind(kJpeg), "jpeg");
  EXPECT_EQ(ImageKind(kPng), "png");
  EXPECT_EQ(ImageKind(kWebp), "webp");
  EXPECT_EQ(ImageKind("Ghi chép chuyến đi"), "");
  EXPECT_EQ(ImageKind("%PDF-1.7\n"), "");
  EXPECT_EQ(ImageKind(std::string("PK\x03\x04", 4) + "xl/workbook.xml"), "");  // a spreadsheet
  EXPECT_EQ(ImageKind("RIFF\x24\x00\x00\x00WAVEfmt "), "");                      // a sound, not WebP
  EXPECT_EQ(ImageKind(""), "");
}

TEST(MediaTest, AFirstChunkIsJudgedAsFarAsItGoes) {
  EXPECT_TRUE(CanBeImage(kJpeg.substr(0, 2), 5000)) << "too short to tell yet";
  EXPECT_TRUE(CanBeImage(kWebp.substr(0, 6), 5000));
  EXPECT_TRUE(CanBeImage("", 5000));
  EXPECT_FALSE(CanBeImage("He", 5000));
  EXPECT_FALSE(CanBeImage("Hello, world", 5000));
  EXPECT_FALSE(CanBeImage(std::string("\xFF\xD8", 2), 2)) << "the whole file, and not a JPEG";
  EXPECT_TRUE(CanBeImage(kPng, 20000));
}

}  // namespace
}  // namespace ocop::media
