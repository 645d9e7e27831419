// Replays fuzz inputs through LLVMFuzzerTestOneInput for builds without libFuzzer (g++):
// every file named on the command line, and every regular file under every directory
// named, in sorted order. A missing path is an error; an empty directory is fine.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

bool collect(const fs::path& path, std::vector<fs::path>& files) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
        std::fprintf(stderr, "replay: %s: no such file or directory\n", path.c_str());
        return false;
    }
    if (fs::is_regular_file(status)) {
        files.push_back(path);
        return true;
    }
    if (!fs::is_directory(status)) {
        std::fprintf(stderr, "replay: %s: not a file or directory\n", path.c_str());
        return false;
    }
    for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
        // .gitkeep keeps empty regression folders in git; it is not an input.
        if (it->is_regular_file() && it->path().filename() != ".gitkeep") {
            files.push_back(it->path());
        }
    }
    if (ec) {
        std::fprintf(stderr, "replay: %s: %s\n", path.c_str(), ec.message().c_str());
        return false;
    }
    return true;
}

bool read_file(const fs::path& path, std::vector<std::uint8_t>& out) {
    out.clear();
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) {
        return false;
    }
    std::array<std::uint8_t, 64 * 1024> chunk{};
    std::size_t n = 0;
    while ((n = std::fread(chunk.data(), 1, chunk.size(), file)) > 0) {
        out.insert(out.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    }
    const bool ok = std::ferror(file) == 0;
    std::fclose(file);
    return ok;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
        return 2;
    }
    std::vector<fs::path> files;
    for (int i = 1; i < argc; ++i) {
        if (!collect(argv[i], files)) {
            return 1;
        }
    }
    std::sort(files.begin(), files.end());
    std::vector<std::uint8_t> data;
    for (const fs::path& file : files) {
        if (!read_file(file, data)) {
            std::fprintf(stderr, "replay: %s: cannot read\n", file.c_str());
            return 1;
        }
        std::fprintf(stderr, "replay: %s (%zu bytes)\n", file.c_str(), data.size());
        // libFuzzer never passes a null pointer, even for an empty input.
        static const std::uint8_t empty = 0;
        LLVMFuzzerTestOneInput(data.empty() ? &empty : data.data(), data.size());
    }
    std::printf("replayed %zu inputs\n", files.size());
    return 0;
}
