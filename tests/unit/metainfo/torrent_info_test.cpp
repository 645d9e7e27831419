#include <spate/bencode/document.hpp>
#include <spate/bencode/error.hpp>
#include <spate/bencode/value.hpp>
#include <spate/metainfo/error.hpp>
#include <spate/metainfo/torrent_info.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace {

using spate::file_index;
using spate::piece_index;
using spate::bencode::value;
using spate::metainfo::errc;
using spate::metainfo::parse_torrent;
using spate::metainfo::torrent_limits;

std::span<const std::byte> bytes_of(std::string_view s) {
    return std::as_bytes(std::span(s));
}

// Deterministic fake hashes: piece i's hash is 20 bytes of value i.
std::string hashes(std::size_t count) {
    std::string out;
    for (std::size_t i = 0; i < count; ++i) {
        out.append(20, static_cast<char>(i));
    }
    return out;
}

value file_entry(std::int64_t length, value::list path) {
    return value::dict{{"length", length}, {"path", std::move(path)}};
}

// 10 bytes in pieces of 4: three pieces.
value single_file() {
    return value::dict{
        {"announce", "http://tracker.example/announce"},
        {"info",
         value::dict{
             {"length", 10}, {"name", "a.txt"}, {"piece length", 4}, {"pieces", hashes(3)}}},
    };
}

// dir/{a (3 bytes), sub/b (0 bytes), c (6 bytes)}, pieces of 4: three pieces.
value multi_file() {
    return value::dict{
        {"info",
         value::dict{{"files", value::list{file_entry(3, {"a"}), file_entry(0, {"sub", "b"}),
                                           file_entry(6, {"c"})}},
                     {"name", "dir"},
                     {"piece length", 4},
                     {"pieces", hashes(3)}}},
    };
}

spate::result<spate::metainfo::torrent_info> parse(const value& v,
                                                   const torrent_limits& limits = {}) {
    const std::string bytes = v.encode();
    return parse_torrent(bytes_of(bytes), limits);
}

value& info_of(value& torrent) {
    return torrent["info"];
}

TEST(torrent_info, single_file_fields) {
    value t = single_file();
    t["comment"] = "hello";
    t["created by"] = "spate test";
    t["creation date"] = 1700000000;
    auto ti = parse(t);
    ASSERT_TRUE(ti.has_value()) << ti.error().message();
    EXPECT_EQ(ti->name(), "a.txt");
    EXPECT_TRUE(ti->single_file());
    EXPECT_EQ(ti->piece_length(), 4u);
    EXPECT_EQ(ti->piece_count(), 3u);
    EXPECT_EQ(ti->total_size(), 10u);
    ASSERT_EQ(ti->files().size(), 1u);
    const auto& f = ti->files()[file_index(0)];
    EXPECT_EQ(f.path, std::vector<std::string>{"a.txt"});
    EXPECT_EQ(f.relative_path(), "a.txt");
    EXPECT_EQ(f.length, 10u);
    EXPECT_EQ(f.offset, 0u);
    EXPECT_FALSE(f.pad);
    EXPECT_EQ(ti->piece_hash(piece_index(2)).bytes[0], std::byte{2});
    EXPECT_EQ(ti->layout().piece_size(piece_index(2)), 2u);
    EXPECT_EQ(ti->trackers(),
              (std::vector<std::vector<std::string>>{{"http://tracker.example/announce"}}));
    EXPECT_TRUE(ti->web_seeds().empty());
    EXPECT_FALSE(ti->is_private());
    EXPECT_EQ(ti->comment(), "hello");
    EXPECT_EQ(ti->created_by(), "spate test");
    EXPECT_EQ(ti->creation_date(), 1700000000);
}

TEST(torrent_info, multi_file_paths_offsets_and_optional_fields_absent) {
    auto ti = parse(multi_file());
    ASSERT_TRUE(ti.has_value()) << ti.error().message();
    EXPECT_FALSE(ti->single_file());
    EXPECT_EQ(ti->total_size(), 9u);
    ASSERT_EQ(ti->files().size(), 3u);
    EXPECT_EQ(ti->files()[file_index(1)].path, (std::vector<std::string>{"dir", "sub", "b"}));
    EXPECT_EQ(ti->files()[file_index(1)].relative_path(), "dir/sub/b");
    EXPECT_EQ(ti->files()[file_index(2)].offset, 3u);
    EXPECT_EQ(ti->files()[file_index(2)].length, 6u);
    EXPECT_TRUE(ti->trackers().empty());
    EXPECT_EQ(ti->creation_date(), std::nullopt);
    EXPECT_EQ(ti->comment(), "");
}

TEST(torrent_info, pad_files_occupy_the_stream_and_may_share_a_path) {
    value t = multi_file();
    value pad1 = file_entry(1, {".pad", "1"});
    pad1["attr"] = "p";
    value pad2 = pad1;
    pad2["attr"] = "xph"; // other BEP 47 flags around the 'p'
    info_of(t)["files"] =
        value::list{file_entry(3, {"a"}), pad1, file_entry(3, {"c"}), pad2, file_entry(2, {"d"})};
    auto ti = parse(t);
    ASSERT_TRUE(ti.has_value()) << ti.error().message();
    EXPECT_EQ(ti->total_size(), 10u);
    EXPECT_TRUE(ti->files()[file_index(1)].pad);
    EXPECT_TRUE(ti->files()[file_index(3)].pad);
    EXPECT_FALSE(ti->files()[file_index(4)].pad);
    EXPECT_EQ(ti->files()[file_index(4)].offset, 8u);
    EXPECT_TRUE(ti->layout().is_pad(file_index(3)));
}

TEST(torrent_info, announce_list_tiers_replace_announce_and_drop_bad_urls) {
    value t = single_file();
    t["announce-list"] = value::list{
        value::list{"udp://a.example:80", "", "ftp://bad", "http://b.example/announce"},
        value::list{"http://has space/", 5, "udp://a.example:80"}, // all dropped: tier removed
        value::list{"HTTPS://c.example/announce"},
        value::list{},
    };
    auto ti = parse(t);
    ASSERT_TRUE(ti.has_value());
    EXPECT_EQ(ti->trackers(), (std::vector<std::vector<std::string>>{
                                  {"udp://a.example:80", "http://b.example/announce"},
                                  {"HTTPS://c.example/announce"}}));
}

TEST(torrent_info, announce_used_when_announce_list_is_empty_or_unusable) {
    value t = single_file();
    t["announce-list"] = value::list{value::list{}, value::list{"", "gopher://x"}};
    auto ti = parse(t);
    ASSERT_TRUE(ti.has_value());
    EXPECT_EQ(ti->trackers(),
              (std::vector<std::vector<std::string>>{{"http://tracker.example/announce"}}));

    t["announce"] = "not a url";
    auto none = parse(t);
    ASSERT_TRUE(none.has_value());
    EXPECT_TRUE(none->trackers().empty());
}

TEST(torrent_info, url_list_as_string_or_list) {
    value t = single_file();
    t["url-list"] = "http://seed.example/files/";
    auto one = parse(t);
    ASSERT_TRUE(one.has_value());
    EXPECT_EQ(one->web_seeds(), std::vector<std::string>{"http://seed.example/files/"});

    t["url-list"] =
        value::list{"https://a.example/", "", "udp://not-a-seed/", 7, "http://b.example/",
                    "https://a.example/"};
    auto many = parse(t);
    ASSERT_TRUE(many.has_value());
    EXPECT_EQ(many->web_seeds(),
              (std::vector<std::string>{"https://a.example/", "http://b.example/"}));
}

TEST(torrent_info, private_flag_is_read_from_info) {
    value t = single_file();
    info_of(t)["private"] = 1;
    auto ti = parse(t);
    ASSERT_TRUE(ti.has_value());
    EXPECT_TRUE(ti->is_private());
    info_of(t)["private"] = 0;
    EXPECT_FALSE(parse(t)->is_private());
}

TEST(torrent_info, hybrid_torrent_is_read_as_v1) {
    value t = multi_file();
    info_of(t)["meta version"] = 2;
    info_of(t)["file tree"] = value::dict{
        {"a",
         value::dict{{"", value::dict{{"length", 3}, {"pieces root", std::string(32, 'r')}}}}}};
    t["piece layers"] = value::dict{{std::string(32, 'r'), std::string(32, 'h')}};
    auto ti = parse(t);
    ASSERT_TRUE(ti.has_value()) << ti.error().message();
    EXPECT_EQ(ti->files().size(), 3u);
    EXPECT_EQ(ti->piece_count(), 3u);
}

TEST(torrent_info, info_hash_is_sha1_of_the_info_bytes_as_found) {
    // Keys deliberately unsorted (root and info), so re-encoding would give other bytes.
    std::string info = "d4:name5:a.txt12:piece lengthi4e6:lengthi10e6:pieces60:";
    for (int i = 0; i < 60; ++i) {
        info.push_back(static_cast<char>(i));
    }
    info += "e";
    const std::string torrent = "d4:info" + info + "8:announce17:http://t/announcee";
    auto ti = parse_torrent(bytes_of(torrent));
    ASSERT_TRUE(ti.has_value()) << ti.error().message();
    // Computed independently: python3 -c "hashlib.sha1(<info bytes>).hexdigest()".
    EXPECT_EQ(ti->info_hash().hex(), "19e25d6e0f8cc2fb6906f3e98b132a6f6e5b9cd5");
    EXPECT_EQ(ti->info_hash(), spate::sha1(bytes_of(info)));
    EXPECT_EQ(ti->trackers(), (std::vector<std::vector<std::string>>{{"http://t/announce"}}));
}

TEST(torrent_info, owns_its_data_after_the_input_is_gone) {
    std::optional<spate::metainfo::torrent_info> kept;
    {
        std::string bytes = multi_file().encode();
        auto ti = parse_torrent(bytes_of(bytes));
        ASSERT_TRUE(ti.has_value());
        kept = std::move(*ti);
        bytes.assign(bytes.size(), 'x');
    }
    EXPECT_EQ(kept->name(), "dir");
    EXPECT_EQ(kept->files()[file_index(2)].path.back(), "c");
}

TEST(torrent_info, limits_are_enforced) {
    const std::string bytes = single_file().encode();
    torrent_limits size_limit;
    size_limit.max_torrent_size = bytes.size() - 1;
    EXPECT_EQ(parse_torrent(bytes_of(bytes), size_limit).error(),
              make_error_code(errc::torrent_too_large));
    size_limit.max_torrent_size = bytes.size();
    EXPECT_TRUE(parse_torrent(bytes_of(bytes), size_limit).has_value());

    torrent_limits pieces_limit;
    pieces_limit.max_pieces = 2;
    EXPECT_EQ(parse(single_file(), pieces_limit).error(), make_error_code(errc::too_many_pieces));

    torrent_limits files_limit;
    files_limit.max_files = 2;
    EXPECT_EQ(parse(multi_file(), files_limit).error(), make_error_code(errc::too_many_files));

    torrent_limits piece_length_limit;
    piece_length_limit.max_piece_length = 3;
    EXPECT_EQ(parse(single_file(), piece_length_limit).error(),
              make_error_code(errc::piece_length_too_large));

    torrent_limits total_limit;
    total_limit.max_total_size = 9;
    EXPECT_EQ(parse(single_file(), total_limit).error(),
              make_error_code(errc::total_size_too_large));

    torrent_limits depth_limit;
    depth_limit.max_depth = 1;
    EXPECT_EQ(parse(single_file(), depth_limit).error(),
              make_error_code(spate::bencode::errc::depth_exceeded));
}

struct bad_torrent {
    const char* what;
    std::function<std::string()> bytes;
    std::error_code expected;
};

// Encodes a mutation of a base torrent.
template <typename F> std::function<std::string()> edit(value (*base)(), F change) {
    return [base, change] {
        value t = base();
        change(t);
        return t.encode();
    };
}

std::function<std::string()> raw(std::string s) {
    return [s] { return s; };
}

std::function<std::string()> set_info(value (*base)(), std::string key, value v) {
    return edit(base, [key, v](value& t) { info_of(t)[key] = v; });
}

std::function<std::string()> drop_info(value (*base)(), std::string key) {
    return edit(base, [key](value& t) { info_of(t).as_dict().erase(key); });
}

std::function<std::string()> with_files(value::list files) {
    return set_info(multi_file, "files", std::move(files));
}

std::function<std::string()> with_path(value::list path) {
    return with_files({file_entry(3, {"a"}), file_entry(6, std::move(path))});
}

std::vector<bad_torrent> bad_torrents() {
    using spate::metainfo::make_error_code;
    using bencode_errc = spate::bencode::errc;
    const auto max = std::numeric_limits<std::int64_t>::max();
    return {
        {"empty input", raw(""), make_error_code(bencode_errc::unexpected_end)},
        {"trailing bytes", raw(single_file().encode() + "x"),
         make_error_code(bencode_errc::trailing_data)},
        {"root is an integer", raw("i5e"), make_error_code(errc::not_a_dictionary)},
        {"root has no info", raw("de"), make_error_code(errc::missing_info)},
        {"info is a list", edit(single_file, [](value& t) { t["info"] = value::list{}; }),
         make_error_code(errc::missing_info)},
        {"v2-only",
         edit(single_file,
              [](value& t) {
                  info_of(t).as_dict().erase("pieces");
                  info_of(t)["meta version"] = 2;
                  info_of(t)["file tree"] = value::dict{};
              }),
         make_error_code(errc::v2_only_not_supported)},
        {"no pieces", drop_info(single_file, "pieces"), make_error_code(errc::missing_pieces)},
        {"pieces is an integer", set_info(single_file, "pieces", 3),
         make_error_code(errc::missing_pieces)},
        {"no name", drop_info(single_file, "name"), make_error_code(errc::missing_name)},
        {"name is an integer", set_info(single_file, "name", 1),
         make_error_code(errc::missing_name)},
        {"name is ..", set_info(single_file, "name", ".."),
         make_error_code(errc::dot_dot_path_component)},
        {"name has /", set_info(multi_file, "name", "a/b"),
         make_error_code(errc::path_component_has_separator)},
        {"name is empty", set_info(single_file, "name", ""),
         make_error_code(errc::empty_path_component)},
        {"name is absolute", set_info(single_file, "name", "/tmp"),
         make_error_code(errc::absolute_path)},
        {"no piece length", drop_info(single_file, "piece length"),
         make_error_code(errc::missing_piece_length)},
        {"piece length zero", set_info(single_file, "piece length", 0),
         make_error_code(errc::piece_length_zero)},
        {"piece length negative", set_info(single_file, "piece length", -4),
         make_error_code(errc::piece_length_negative)},
        {"piece length 1 GiB", set_info(single_file, "piece length", std::int64_t{1} << 30),
         make_error_code(errc::piece_length_too_large)},
        {"pieces 59 bytes", set_info(single_file, "pieces", hashes(3).substr(1)),
         make_error_code(errc::pieces_not_multiple_of_20)},
        {"too few hashes", set_info(single_file, "pieces", hashes(2)),
         make_error_code(errc::piece_count_mismatch)},
        {"too many hashes", set_info(single_file, "pieces", hashes(4)),
         make_error_code(errc::piece_count_mismatch)},
        {"neither length nor files", drop_info(single_file, "length"),
         make_error_code(errc::missing_length_and_files)},
        {"both length and files", set_info(multi_file, "length", 9),
         make_error_code(errc::both_length_and_files)},
        {"length is a string", set_info(single_file, "length", "10"),
         make_error_code(errc::missing_file_length)},
        {"negative length", set_info(single_file, "length", -10),
         make_error_code(errc::file_length_negative)},
        {"zero total",
         edit(single_file,
              [](value& t) {
                  info_of(t)["length"] = 0;
                  info_of(t)["pieces"] = "";
              }),
         make_error_code(errc::no_data)},
        {"files is a string", set_info(multi_file, "files", "a"),
         make_error_code(errc::files_not_a_list)},
        {"files is empty", with_files({}), make_error_code(errc::empty_file_list)},
        {"file entry is an integer", with_files({5}), make_error_code(errc::bad_file_entry)},
        {"file has no length", with_files({value::dict{{"path", value::list{"a"}}}}),
         make_error_code(errc::missing_file_length)},
        {"file length negative", with_files({file_entry(12, {"a"}), file_entry(-3, {"b"})}),
         make_error_code(errc::file_length_negative)},
        {"file has no path", with_files({value::dict{{"length", 9}}}),
         make_error_code(errc::missing_file_path)},
        {"path is a string", with_files({value::dict{{"length", 9}, {"path", "a"}}}),
         make_error_code(errc::missing_file_path)},
        {"path component is an integer", with_path({"a", 1}),
         make_error_code(errc::missing_file_path)},
        {"path is empty", with_path({}), make_error_code(errc::empty_path)},
        {"path has ..", with_path({"..", "etc"}), make_error_code(errc::dot_dot_path_component)},
        {"path has . ", with_path({"x", "."}), make_error_code(errc::dot_path_component)},
        {"path has empty", with_path({"x", ""}), make_error_code(errc::empty_path_component)},
        {"path is absolute", with_path({"/etc", "passwd"}), make_error_code(errc::absolute_path)},
        {"component has /", with_path({"x/../../y"}),
         make_error_code(errc::path_component_has_separator)},
        {"component has NUL", with_path({std::string("x\0y", 3)}),
         make_error_code(errc::path_component_has_nul)},
        {"component too long", with_path({std::string(256, 'n')}),
         make_error_code(errc::path_component_too_long)},
        {"pad path has ..",
         with_files({file_entry(3, {"a"}),
                     value::dict{{"attr", "p"}, {"length", 6}, {"path", value::list{".."}}}}),
         make_error_code(errc::dot_dot_path_component)},
        {"duplicate path", with_files({file_entry(3, {"a"}), file_entry(6, {"a"})}),
         make_error_code(errc::duplicate_file_path)},
        {"file is another's folder", with_files({file_entry(3, {"a"}), file_entry(6, {"a", "b"})}),
         make_error_code(errc::file_path_conflict)},
        {"lengths overflow",
         with_files({file_entry(max, {"a"}), file_entry(max, {"b"}), file_entry(2, {"c"})}),
         make_error_code(errc::total_size_overflow)},
        {"total too large",
         edit(single_file,
              [](value& t) {
                  info_of(t)["length"] = std::int64_t{1} << 51;
                  info_of(t)["piece length"] = 1 << 29;
                  info_of(t)["pieces"] = "";
              }),
         make_error_code(errc::total_size_too_large)},
    };
}

TEST(torrent_info, malformed_torrents_fail_with_their_specific_error) {
    const auto cases = bad_torrents();
    EXPECT_GE(cases.size(), 45u);
    for (const auto& c : cases) {
        const std::string bytes = c.bytes();
        auto ti = parse_torrent(bytes_of(bytes));
        if (ti.has_value()) {
            ADD_FAILURE() << c.what << ": parsed, expected " << c.expected.message();
            continue;
        }
        EXPECT_EQ(ti.error(), c.expected) << c.what << ": got '" << ti.error().message()
                                          << "', expected '" << c.expected.message() << "'";
    }
}

} // namespace
