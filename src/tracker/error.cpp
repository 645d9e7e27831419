#include <spate/tracker/error.hpp>

#include <string>

namespace spate::tracker {

namespace {

class category final : public std::error_category {
public:
    [[nodiscard]] const char* name() const noexcept override { return "spate.tracker"; }

    [[nodiscard]] std::string message(int value) const override {
        switch (static_cast<errc>(value)) {
        case errc::tracker_failure:
            return "tracker refused the request";
        case errc::packet_too_short:
            return "UDP tracker packet is shorter than its fixed part";
        case errc::bad_packet_size:
            return "UDP tracker packet size does not fit its message";
        case errc::unknown_action:
            return "UDP tracker packet has an unknown action";
        case errc::wrong_action:
            return "UDP tracker reply has another action than expected";
        case errc::bad_protocol_id:
            return "UDP connect request does not carry the protocol id";
        case errc::no_info_hashes:
            return "scrape names no info-hash";
        case errc::too_many_info_hashes:
            return "scrape names more info-hashes than allowed";
        case errc::scrape_count_mismatch:
            return "scrape reply has another number of entries than info-hashes asked for";
        case errc::bad_event:
            return "announce event is not none, completed, started or stopped";
        case errc::bad_option:
            return "UDP announce option (BEP 41) runs past the end of the packet";
        case errc::url_data_too_long:
            return "tracker URL path and query are too long for a UDP announce";
        case errc::bad_compact_peers:
            return "compact peer list is not a whole number of 6- or 18-byte entries";
        case errc::bad_url:
            return "tracker URL is not an http:// or https:// URL with a host";
        case errc::scrape_not_supported:
            return "tracker does not support scrape (URL path does not end in 'announce')";
        case errc::bad_bencode:
            return "tracker reply is not valid bencode";
        case errc::not_a_dictionary:
            return "tracker reply is not a bencoded dictionary";
        case errc::missing_interval:
            return "tracker reply has no 'interval'";
        case errc::bad_interval:
            return "tracker reply interval is below one second";
        case errc::bad_peers:
            return "tracker reply 'peers' or 'peers6' has the wrong type";
        case errc::missing_files:
            return "scrape reply has no 'files' dictionary";
        case errc::body_too_large:
            return "tracker reply body is larger than the limit";
        case errc::bad_escape:
            return "query has a malformed percent-escape";
        case errc::missing_info_hash:
            return "announce query has no info_hash";
        case errc::bad_info_hash:
            return "info_hash is not 20 bytes";
        case errc::missing_peer_id:
            return "announce query has no peer_id";
        case errc::bad_peer_id:
            return "peer_id is not 20 bytes";
        case errc::missing_port:
            return "announce query has no port";
        case errc::bad_port:
            return "announce port is not a number in 1..65535";
        case errc::bad_number:
            return "announce query has a field that is not a number in range";
        }
        return "unknown tracker error";
    }
};

} // namespace

const std::error_category& tracker_category() noexcept {
    static const category instance;
    return instance;
}

std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), tracker_category()};
}

} // namespace spate::tracker
