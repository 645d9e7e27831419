#include <spate/storage/error.hpp>

#include <string>

namespace spate::storage {

namespace {

class category final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "spate.storage"; }

    [[nodiscard]] std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::data_missing:
            return "payload file is absent or shorter than the torrent says";
        case errc::resume_corrupt:
            return "resume file is corrupt";
        case errc::resume_mismatch:
            return "resume file belongs to another torrent or another file layout";
        case errc::resume_unsupported_version:
            return "resume file has a format version this spate does not know";
        case errc::unsafe_path:
            return "path goes through a symbolic link or leaves the download folder";
        case errc::folder_missing:
            return "download folder does not exist";
        case errc::read_only:
            return "storage was opened read-only (existing files only)";
        case errc::buffer_too_small:
            return "buffer is smaller than the piece";
        case errc::not_a_regular_file:
            return "payload path exists but is not a regular file";
        }
        return "unknown storage error";
    }
};

} // namespace

const std::error_category& storage_category() noexcept {
    static const category instance;
    return instance;
}

std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), storage_category()};
}

} // namespace spate::storage
