#include "progress_line.hpp"

#include "units.hpp"

#include <fmt/core.h>

#include <unistd.h>

#include <cstdio>

namespace spate::cli {

progress_line::progress_line(std::string label, std::uint64_t total)
    : m_label(std::move(label)), m_total(total), m_enabled(::isatty(STDERR_FILENO) == 1),
      m_start(std::chrono::steady_clock::now()), m_last_draw(m_start) {}

progress_line::~progress_line() { finish(); }

void progress_line::update(std::uint64_t done) {
    if (!m_enabled) {
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (m_drawn && now - m_last_draw < std::chrono::milliseconds(100)) {
        return;
    }
    m_last_draw = now;
    draw(done);
}

void progress_line::draw(std::uint64_t done) {
    const double seconds = std::chrono::duration<double>(m_last_draw - m_start).count();
    const double percent =
        m_total == 0 ? 100.0 : 100.0 * static_cast<double>(done) / static_cast<double>(m_total);
    const auto rate = seconds > 0.0 ? static_cast<std::uint64_t>(static_cast<double>(done) / seconds)
                                    : std::uint64_t{0};
    // \r and "erase to end of line" redraw in place without scrolling.
    fmt::print(stderr, "\r{}: {:5.1f}%  {} of {}  {}/s\x1b[K", m_label, percent, format_size(done),
               format_size(m_total), format_size(rate));
    std::fflush(stderr);
    m_drawn = true;
}

void progress_line::finish() {
    if (m_enabled && m_drawn) {
        fmt::print(stderr, "\r\x1b[K");
        std::fflush(stderr);
        m_drawn = false;
    }
}

} // namespace spate::cli
