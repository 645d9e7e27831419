#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <thread>
#include <utility>

namespace spate::cli {

std::string self_executable() {
    std::string path(4096, '\0');
    const ssize_t n = ::readlink("/proc/self/exe", path.data(), path.size() - 1);
    if (n <= 0) {
        return {};
    }
    path.resize(static_cast<std::size_t>(n));
    return path;
}

result<child_process> child_process::start(const std::vector<std::string>& args, int core,
                                           bool capture) {
    int pipe_fds[2] = {-1, -1};
    if (capture && ::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        return fail(errno_code(errno));
    }
    std::vector<char*> argv;
    for (const std::string& a : args) {
        argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int error = errno;
        if (capture) {
            ::close(pipe_fds[0]);
            ::close(pipe_fds[1]);
        }
        return fail(errno_code(error));
    }
    if (pid == 0) {
        // The child: only async-signal-safe calls until exec.
        if (core >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(core, &set);
            static_cast<void>(::sched_setaffinity(0, sizeof(set), &set));
        }
        const int out = capture ? pipe_fds[1] : ::open("/dev/null", O_WRONLY);
        if (out >= 0) {
            ::dup2(out, STDOUT_FILENO);
        }
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    if (capture) {
        ::close(pipe_fds[1]);
    }
    return child_process(pid, capture ? pipe_fds[0] : -1);
}

child_process::child_process(child_process&& other) noexcept
    : m_pid(std::exchange(other.m_pid, -1)), m_out(std::exchange(other.m_out, -1)),
      m_pending(std::move(other.m_pending)), m_started(other.m_started) {}

child_process::~child_process() {
    if (m_pid > 0) {
        ::kill(m_pid, SIGTERM);
        for (int i = 0; i < 100; ++i) {
            if (::waitpid(m_pid, nullptr, WNOHANG) == m_pid) {
                m_pid = -1;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        if (m_pid > 0) {
            ::kill(m_pid, SIGKILL);
            ::waitpid(m_pid, nullptr, 0);
        }
    }
    if (m_out >= 0) {
        ::close(m_out);
    }
}

std::optional<std::string> child_process::read_line_containing(std::string_view needle,
                                                               int seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (m_out >= 0) {
        for (auto end = m_pending.find('\n'); end != std::string::npos;
             end = m_pending.find('\n')) {
            std::string line = m_pending.substr(0, end);
            m_pending.erase(0, end + 1);
            if (line.find(needle) != std::string::npos) {
                return line;
            }
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            return std::nullopt;
        }
        pollfd p{m_out, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
            continue; // timed out (checked above next round) or interrupted
        }
        char chunk[4096];
        const ssize_t n = ::read(m_out, chunk, sizeof(chunk));
        if (n <= 0) {
            return std::nullopt; // the child closed its output
        }
        m_pending.append(chunk, static_cast<std::size_t>(n));
    }
    return std::nullopt;
}

void child_process::interrupt() {
    if (m_pid > 0) {
        ::kill(m_pid, SIGINT);
    }
}

child_result child_process::wait() {
    child_result out;
    if (m_pid <= 0) {
        return out;
    }
    int status = 0;
    rusage usage{};
    pid_t got = -1;
    do {
        got = ::wait4(m_pid, &status, 0, &usage);
    } while (got < 0 && errno == EINTR);
    m_pid = -1;
    out.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - m_started).count();
    const auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    out.cpu_seconds = seconds(usage.ru_utime) + seconds(usage.ru_stime);
    out.max_rss_kib = usage.ru_maxrss;
    out.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return out;
}

} // namespace spate::cli
