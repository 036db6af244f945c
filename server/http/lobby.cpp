#include "server/http/lobby.h"

#include <Poco/Logger.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <list>
#include <map>
#include <string>
#include <unordered_map>

namespace ocop::server::http {

namespace {

using Clock = std::chrono::steady_clock;

// The most a request's headers may take; a full peek of this size is handed
// on and Poco answers it (431 or 400) rather than the lobby guessing.
constexpr size_t kPeekBytes = 16 * 1024;

bool IsLoopback(const std::string& address) { return address.rfind("127.", 0) == 0 || address == "::1"; }

struct Guest {
  Poco::Net::StreamSocket socket;
  Clock::time_point deadline;
  std::string address;
  bool lingering = false;
  bool fresh = true;  // a new connection, not one kept alive after an answer
  int64_t discarded = 0;
};

enum class Next { kHandOn, kWait, kClose };

// Waiting for headers: peeks (without consuming: Poco reads the request
// afterwards) for the blank line that ends them.
Next PeekHeaders(int fd, std::string& buf) {
  ssize_t n = recv(fd, buf.data(), buf.size(), MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return Next::kClose;
  if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? Next::kWait : Next::kClose;
  if (static_cast<size_t>(n) == buf.size() || memmem(buf.data(), static_cast<size_t>(n), "\r\n\r\n", 4))
    return Next::kHandOn;
  return Next::kWait;
}

// Lingering: reads away what has arrived (edge-triggered, so to EAGAIN).
Next Discard(int fd, std::string& buf, Guest& guest, int64_t max_bytes) {
  for (int i = 0; i < 64; ++i) {
    ssize_t n = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n == 0) return Next::kClose;  // the client read the answer and closed
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? Next::kWait : Next::kClose;
    guest.discarded += n;
    if (guest.discarded > max_bytes) return Next::kClose;
  }
  return Next::kWait;
}

}  // namespace

Lobby::Lobby(Poco::Net::ServerSocket& socket, Poco::Net::TCPServerConnectionFactory::Ptr factory,
             Poco::ThreadPool& pool, Poco::Net::TCPServerParams::Ptr params, LobbyOptions options)
    : socket_(socket), dispatcher_(new Poco::Net::TCPServerDispatcher(factory, pool, params)), options_(options) {}

Lobby::~Lobby() {
  Stop();
  dispatcher_->release();
}

void Lobby::Start() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ < 0 || wake_fd_ < 0) throw Poco::SystemException("cannot create the connection lobby's epoll");
  socket_.setBlocking(false);  // accept until EAGAIN on each wake
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = socket_.impl()->sockfd();
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, ev.data.fd, &ev);
  ev.data.fd = wake_fd_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  loop_ = std::thread([this] { Run(); });
}

void Lobby::Stop() {
  if (!loop_.joinable()) return;
  stopping_ = true;
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
  loop_.join();
  close(epoll_fd_);
  close(wake_fd_);
  dispatcher_->stop();
}

void Lobby::Readmit(const Poco::Net::StreamSocket& socket) { Post(socket, false); }

void Lobby::Linger(const Poco::Net::StreamSocket& socket) {
  try {
    const_cast<Poco::Net::StreamSocket&>(socket).shutdownSend();  // the answer is whole: FIN after it
  } catch (const Poco::Exception&) {
    return;  // gone already
  }
  Post(socket, true);
}

void Lobby::Post(const Poco::Net::StreamSocket& socket, bool linger) {
  if (stopping_) return;  // closed when the last reference goes
  {
    std::lock_guard<std::mutex> lock(inbox_mu_);
    inbox_.emplace_back(socket, linger);
  }
  uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
}

void Lobby::Run() {
  Poco::Logger& log = Poco::Logger::get("ocopd.http");
  const int listen_fd = socket_.impl()->sockfd();
  // Two rooms, each in arrival order, which is its deadline order (one
  // deadline per room).
  std::list<Guest> waiting, lingering;
  std::unordered_map<int, std::list<Guest>::iterator> by_fd;
  std::map<std::string, int> per_address;  // waiting for headers only
  std::string buf(kPeekBytes, '\0');

  auto room_of = [&](const Guest& g) -> std::list<Guest>& { return g.lingering ? lingering : waiting; };
  auto forget = [&](std::list<Guest>::iterator it) {
    int fd = it->socket.impl()->sockfd();
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    by_fd.erase(fd);
    if (!it->lingering && --per_address[it->address] <= 0) per_address.erase(it->address);
    room_of(*it).erase(it);
    waiting_ = static_cast<int64_t>(waiting.size());
  };
  auto hand_on = [&](std::list<Guest>::iterator it) {
    Poco::Net::StreamSocket socket = it->socket;
    forget(it);
    dispatcher_->enqueue(socket);  // Poco closes it if its own queue is full
  };
  auto step = [&](std::list<Guest>::iterator it) {
    int fd = it->socket.impl()->sockfd();
    Next next = it->lingering ? Discard(fd, buf, *it, options_.linger_max_bytes) : PeekHeaders(fd, buf);
    if (next == Next::kHandOn) hand_on(it);
    else if (next == Next::kClose) forget(it);
  };
  // kind: 0 new, 1 kept alive after an answer, 2 to be closed (lingering)
  auto admit = [&](Poco::Net::StreamSocket socket, int kind) {
    const bool linger = kind == 2;
    std::string address;
    try {
      address = socket.peerAddress().host().toString();
    } catch (const Poco::Exception&) {
      return;  // gone already: closed with the last reference
    }
    if (!linger) {
      int& mine = per_address[address];
      if (mine >= options_.max_waiting_per_address && (options_.limit_loopback || !IsLoopback(address))) {
        ++closed_for_room_;
        return;  // this address already has its share waiting
      }
      ++mine;
    }
    if (static_cast<int>(waiting.size() + lingering.size()) >= options_.max_waiting) {
      ++closed_for_room_;
      forget(lingering.empty() ? waiting.begin() : lingering.begin());
    }
    int ms = kind == 0 ? options_.header_deadline_ms : kind == 1 ? options_.keep_alive_ms : options_.linger_ms;
    std::list<Guest>& room = linger ? lingering : waiting;
    room.push_back(Guest{socket, Clock::now() + std::chrono::milliseconds(ms), std::move(address), linger, kind == 0, 0});
    auto it = std::prev(room.end());
    int fd = socket.impl()->sockfd();
    by_fd[fd] = it;
    waiting_ = static_cast<int64_t>(waiting.size());
    // Edge-triggered: woken when more bytes arrive, not while the same
    // partial headers sit in the buffer.
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    step(it);
  };
  auto accept_all = [&] {
    for (int i = 0; i < 256; ++i) {
      Poco::Net::StreamSocket socket;
      try {
        socket = socket_.acceptConnection();
        socket.setNoDelay(true);
      } catch (const Poco::Exception&) {
        return;  // nothing more to accept now (or a connection reset before accept)
      }
      if (options_.plain_http) admit(socket, 0);
      else dispatcher_->enqueue(socket);  // encrypted: nothing to peek at
    }
  };
  auto expire = [&](std::list<Guest>& room) {
    int expired = 0;
    auto now = Clock::now();
    while (!room.empty() && room.front().deadline <= now) {
      expired += room.front().fresh ? 1 : 0;  // an idle kept-alive connection closing is no news
      forget(room.begin());
    }
    return expired;
  };

  epoll_event events[256];
  for (;;) {
    int timeout_ms = 1000;
    for (const auto* room : {&waiting, &lingering})
      if (!room->empty()) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(room->front().deadline - Clock::now()).count();
        timeout_ms = static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(left + 1, timeout_ms)));
      }
    int n = epoll_wait(epoll_fd_, events, 256, timeout_ms);
    if (n < 0 && errno != EINTR) {
      log.error(std::string("connection lobby: epoll_wait failed: ") + strerror(errno));
      break;
    }
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t count;
        (void)!read(wake_fd_, &count, sizeof count);
        if (stopping_) {
          while (!waiting.empty()) forget(waiting.begin());
          while (!lingering.empty()) forget(lingering.begin());
          return;
        }
        std::vector<std::pair<Poco::Net::StreamSocket, bool>> arrived;
        {
          std::lock_guard<std::mutex> lock(inbox_mu_);
          arrived.swap(inbox_);
        }
        for (auto& [socket, linger] : arrived) admit(socket, linger ? 2 : 1);
        continue;
      }
      if (fd == listen_fd) {
        accept_all();
        continue;
      }
      auto found = by_fd.find(fd);
      if (found != by_fd.end()) step(found->second);  // else handed on or closed earlier in this round
    }
    expire(lingering);
    if (int expired = expire(waiting); expired > 0) {
      closed_for_deadline_ += expired;
      log.notice("closed " + std::to_string(expired) + " connection(s) that sent no complete request headers within " +
                 std::to_string(options_.header_deadline_ms) + " ms");
    }
  }
}

}  // namespace ocop::server::http
