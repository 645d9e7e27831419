#pragma once
// A live progress line on a terminal: redrawn in place at most ten times a second, and
// silent when stderr is not a terminal (pipes get the final result only).

#include <chrono>
#include <cstdint>
#include <string>

namespace spate::cli {

class progress_line {
public:
    /// `label` names the work ("hashing"); `total` is in bytes.
    progress_line(std::string label, std::uint64_t total);
    ~progress_line();
    progress_line(const progress_line&) = delete;
    progress_line& operator=(const progress_line&) = delete;

    /// Reports `done` bytes of the total; redraws when enough time has passed.
    void update(std::uint64_t done);
    /// Erases the line (also done by the destructor).
    void finish();

private:
    void draw(std::uint64_t done);

    std::string m_label;
    std::uint64_t m_total;
    bool m_enabled;
    bool m_drawn = false;
    std::chrono::steady_clock::time_point m_start;
    std::chrono::steady_clock::time_point m_last_draw;
};

} // namespace spate::cli
