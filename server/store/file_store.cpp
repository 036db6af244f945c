#include "server/store/file_store.h"
#include "shared/hash.h"

#include <openssl/sha.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

namespace ocop::server {

namespace {
int64_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}
}  // namespace

Status FileStore::Init() {
  // Every missing level (files.dir may name a directory not made yet).
  for (size_t at = 1; at <= dir_.size(); ++at) {
    if (at != dir_.size() && dir_[at] != '/') continue;
    std::string part = dir_.substr(0, at);
    if (mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) return Status::Internal("cannot create " + part);
  }
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

namespace {

// An exclusive lock on an upload's .part file, shared by every ocopd that
// serves this directory (several replicas on one shared files.dir): one
// append at a time, and the check of the offset under the same lock. The
// lock follows the file: if another process finished or discarded the upload
// while this one waited, the name no longer points at the locked file and
// the caller looks again.
class PartLock {
 public:
  explicit PartLock(const std::string& path) {
    for (int attempt = 0; attempt < 3 && fd_ < 0; ++attempt) {
      int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      if (fd < 0) return;
      struct stat held, named;
      if (flock(fd, LOCK_EX) == 0 && fstat(fd, &held) == 0 && stat(path.c_str(), &named) == 0 &&
          held.st_ino == named.st_ino && held.st_dev == named.st_dev) {
        fd_ = fd;
        size_ = static_cast<int64_t>(held.st_size);
      } else {
        close(fd);
      }
    }
  }
  ~PartLock() {
    if (fd_ >= 0) close(fd_);  // closing releases the lock
  }
  PartLock(const PartLock&) = delete;
  PartLock& operator=(const PartLock&) = delete;
  int fd() const { return fd_; }
  int64_t size() const { return size_; }

 private:
  int fd_ = -1;
  int64_t size_ = 0;
};

}  // namespace

Status FileStore::Append(const std::string& sha, int64_t size, int64_t offset, const std::string& bytes,
                         int64_t* received) {
  std::lock_guard<std::mutex> lock(mu_);
  if (FileSize(Path(sha)) >= 0) {
    *received = size;
    return Status::Ok();  // already complete: a repeated last chunk changes nothing
  }
  std::string part = Path(sha) + ".part";
  PartLock held(part);
  if (held.fd() < 0) return Status::Unavailable("cannot open " + part + "; try again");
  if (FileSize(Path(sha)) >= 0) {
    // Completed by another process while this one waited for the lock.
    std::remove(part.c_str());
    *received = size;
    return Status::Ok();
  }
  int64_t have = held.size();
  if (offset != have)
    return Status::Precondition("upload of " + sha + " continues at byte " + std::to_string(have) + ", not " +
                                std::to_string(offset));
  if (have + static_cast<int64_t>(bytes.size()) > size)
    return Status::Invalid("upload of " + sha + " goes past its declared size " + std::to_string(size));
  for (size_t done = 0; done < bytes.size();) {
    ssize_t n = write(held.fd(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Cut back to what was there, so the upload resumes at a known offset.
      bool full = n < 0 && (errno == ENOSPC || errno == EDQUOT);
      if (ftruncate(held.fd(), static_cast<off_t>(have)) != 0) std::remove(part.c_str());
      if (full) return Status::Full("the server's disk is full; everything stays on the device: sync again later");
      return Status::Internal("cannot write " + part);
    }
    done += static_cast<size_t>(n);
  }
  have += static_cast<int64_t>(bytes.size());
  *received = have;
  if (have < size) return Status::Ok();
  std::ifstream in(part, std::ios::binary);
  std::stringstream all;
  all << in.rdbuf();
  if (hash::Sha256Hex(all.str()) != sha) {
    std::remove(part.c_str());
    *received = 0;
    return Status::Invalid("the uploaded bytes do not match SHA-256 " + sha + "; upload again");
  }
  // Durable before it is reported complete.
  fsync(held.fd());
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

void FileStore::RemoveOlderThan(int64_t age_s, bool partials_only) {
  std::lock_guard<std::mutex> lock(mu_);
  DIR* d = opendir(dir_.c_str());
  if (!d) return;
  time_t cutoff = std::time(nullptr) - static_cast<time_t>(age_s);
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::string path = dir_ + "/" + e->d_name;
    if (partials_only && (path.size() < 5 || path.compare(path.size() - 5, 5, ".part") != 0)) continue;
    struct stat st;
    if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < cutoff) std::remove(path.c_str());
  }
  closedir(d);
}

}  // namespace ocop::server
