#include <spate/metainfo/error.hpp>
#include <spate/metainfo/path.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using spate::metainfo::errc;
using path_list = std::vector<std::string>;

struct bad_component {
    std::string component;
    errc expected;
};

class path_rejects : public testing::TestWithParam<bad_component> {};

TEST_P(path_rejects, component_with_its_specific_error) {
    const auto& c = GetParam();
    auto r = spate::metainfo::check_path_component(c.component);
    ASSERT_FALSE(r.has_value()) << c.component;
    EXPECT_EQ(r.error(), make_error_code(c.expected)) << r.error().message();
    // The same component inside a longer path is refused by to_relative_path too.
    auto p = spate::metainfo::to_relative_path(path_list{"ok", c.component, "tail"});
    ASSERT_FALSE(p.has_value());
    EXPECT_EQ(p.error(), make_error_code(c.expected));
}

INSTANTIATE_TEST_SUITE_P(
    path, path_rejects,
    testing::Values(bad_component{"", errc::empty_path_component},
                    bad_component{".", errc::dot_path_component},
                    bad_component{"..", errc::dot_dot_path_component},
                    bad_component{"/etc", errc::absolute_path},
                    bad_component{"/", errc::absolute_path},
                    bad_component{"a/b", errc::path_component_has_separator},
                    bad_component{"../x", errc::path_component_has_separator},
                    bad_component{"a/", errc::path_component_has_separator},
                    bad_component{std::string("a\0b", 3), errc::path_component_has_nul},
                    bad_component{"new\nline", errc::path_component_has_control},
                    bad_component{"esc\x1b[2Jape", errc::path_component_has_control},
                    bad_component{"tab\t", errc::path_component_has_control},
                    bad_component{"del\x7f", errc::path_component_has_control},
                    bad_component{"csi\xc2\x9b" "2J", errc::path_component_has_control},
                    bad_component{"line\xe2\x80\xa8" "sep", errc::path_component_has_control},
                    bad_component{"evil\xe2\x80\xaetxt.exe", errc::path_component_has_bidi_control},
                    bad_component{"a\xe2\x81\xa6" "b", errc::path_component_has_bidi_control},
                    bad_component{"a\xe2\x80\x8f", errc::path_component_has_bidi_control},
                    bad_component{"\xd8\x9c", errc::path_component_has_bidi_control},
                    bad_component{std::string(256, 'x'), errc::path_component_too_long}));

TEST(path, accepts_ordinary_and_unusual_but_legal_names) {
    for (std::string c :
         {"a", "...", ".hidden", "a..b", "back\\slash", "sp ace", "\xff\xfe", "caf\xc3\xa9",
          "\xe2\x80\x94" "dash", "\xe2\x81\xa5", "\xe2\x80", "cp1252 \x80\x93\x9b",
          "\xc2\xa9 2026"}) {
        EXPECT_TRUE(spate::metainfo::check_path_component(c).has_value()) << c;
    }
    EXPECT_TRUE(spate::metainfo::check_path_component(std::string(255, 'x')).has_value());
}

TEST(path, empty_component_list_is_rejected) {
    auto r = spate::metainfo::to_relative_path(path_list{});
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), make_error_code(errc::empty_path));
}

TEST(path, joins_components_into_a_relative_path) {
    auto r = spate::metainfo::to_relative_path(path_list{"name", "dir", "file.bin"});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->string(), "name/dir/file.bin");
    EXPECT_TRUE(r->is_relative());
    // Nothing in the result can climb out of a folder it is appended to.
    for (const auto& element : *r) {
        EXPECT_NE(element, "..");
        EXPECT_NE(element, ".");
    }
}

TEST(path, unique_paths_pass) {
    std::vector<path_list> paths{{"t", "a"}, {"t", "b"}, {"t", "c", "a"}, {"t", "ab"}};
    EXPECT_TRUE(spate::metainfo::check_unique_paths(paths).has_value());
}

TEST(path, duplicate_paths_are_rejected) {
    std::vector<path_list> paths{{"t", "b"}, {"t", "a"}, {"t", "b"}};
    auto r = spate::metainfo::check_unique_paths(paths);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), make_error_code(errc::duplicate_file_path));
}

TEST(path, a_file_used_as_a_folder_is_rejected_in_either_order) {
    std::vector<path_list> paths{{"t", "a", "x"}, {"t", "b"}, {"t", "a"}};
    auto r = spate::metainfo::check_unique_paths(paths);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error(), make_error_code(errc::file_path_conflict));

    // A sibling sorting between "a" and "a/x" must not hide the clash.
    std::vector<path_list> nested{{"a"}, {"a", "0"}, {"a", "x", "y"}};
    EXPECT_EQ(spate::metainfo::check_unique_paths(nested).error(),
              make_error_code(errc::file_path_conflict));
}

TEST(path, error_messages_name_the_problem) {
    EXPECT_EQ(make_error_code(errc::dot_dot_path_component).message(),
              "file path escapes the download folder: '..'");
    EXPECT_STREQ(make_error_code(errc::dot_dot_path_component).category().name(), "spate.metainfo");
}

} // namespace
