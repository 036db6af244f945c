// Photo bytes in a directory several ocopd share (files.dir): an upload cut on
// one replica resumes on another, and replicas racing on one upload never
// write a byte twice. Two FileStore objects on one directory stand for two
// processes: flock locks belong to open files, so they exclude each other as
// two processes would.
#include "server/store/file_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "tests/client/test_home.h"
#include "shared/hash.h"

namespace ocop::server {
namespace {

std::string Photo(size_t n) {
  std::mt19937 rng(42);
  std::string bytes(n, '\0');
  for (auto& c : bytes) c = static_cast<char>(rng());
  return bytes;
}

TEST(SharedFileStoreTest, AnUploadCutOnOneReplicaResumesOnAnother) {
  ocop::testing::TempDir dir;
  FileStore a(dir.path() + "/shared/files"), b(dir.path() + "/shared/files");
  ASSERT_TRUE(a.Init().ok());  // makes every missing level
  ASSERT_TRUE(b.Init().ok());
  std::string photo = Photo(300000), sha = hash::Sha256Hex(photo);
  int64_t received = 0;
  ASSERT_TRUE(a.Append(sha, 300000, 0, photo.substr(0, 120000), &received).ok());
  EXPECT_EQ(b.Received(sha), 120000);  // the other replica sees where it stopped
  EXPECT_EQ(b.Append(sha, 300000, 0, photo.substr(0, 1000), &received).code(), Code::kFailedPrecondition);
  ASSERT_TRUE(b.Append(sha, 300000, 120000, photo.substr(120000), &received).ok());
  EXPECT_TRUE(a.Complete(sha));
  std::string back;
  ASSERT_TRUE(a.Read(sha, &back).ok());
  EXPECT_EQ(back, photo);
}

TEST(SharedFileStoreTest, ReplicasRacingOnOneUploadNeverWriteAByteTwice) {
  ocop::testing::TempDir dir;
  FileStore a(dir.path() + "/files"), b(dir.path() + "/files");
  ASSERT_TRUE(a.Init().ok());
  std::string photo = Photo(200000), sha = hash::Sha256Hex(photo);
  const int64_t size = static_cast<int64_t>(photo.size());
  // Eight senders (a device retrying through the balancer, say) each send the
  // chunk after what they last saw arrive, through either replica.
  std::atomic<int> refused{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < 8; ++t)
    senders.emplace_back([&, t] {
      FileStore& via = t % 2 ? a : b;
      for (int i = 0; i < 400 && !via.Complete(sha); ++i) {
        int64_t at = via.Received(sha);
        if (at >= size) break;
        size_t n = std::min<size_t>(7000, static_cast<size_t>(size - at));
        int64_t received = 0;
        Status s = via.Append(sha, size, at, photo.substr(static_cast<size_t>(at), n), &received);
        if (!s.ok()) {
          EXPECT_EQ(s.code(), Code::kFailedPrecondition) << s.message();  // another sender was first
          ++refused;
        }
      }
    });
  for (auto& t : senders) t.join();
  ASSERT_TRUE(a.Complete(sha));
  std::string back;
  ASSERT_TRUE(b.Read(sha, &back).ok());
  EXPECT_EQ(back, photo);  // checked against its SHA-256 before it was made complete, too
  std::printf("racing senders: %d chunks refused for a stale offset\n", refused.load());
}

}  // namespace
}  // namespace ocop::server
