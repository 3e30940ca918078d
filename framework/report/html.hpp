// Markup by type: an Html value holds trusted markup, and the html() formatter escapes every text
// argument, so a string from the database cannot reach the page as markup by mistake (the idea of
// Google Benchmark's typed formatter in json_reporter.cc, here for HTML).
//
//   Html row = html("<tr><td>{}</td><td class=\"num\">{:.2f}</td><td>{}</td></tr>", run.name,
//                   100 * accuracy, status_badge(run.status));
//
// run.name (std::string) is escaped; the number is formatted by fmt; status_badge returns Html and
// passes unchanged. Trusted markup comes only from string literals (the format strings and
// MarkupLiteral, checked at compile time) and from Html::trusted, used for the resources embedded
// at build time and for payloads made safe by escape_inline_script or script_safe_json.
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace lenetlab::report {

/// A string literal of markup. consteval: a run-time string cannot become one.
struct MarkupLiteral {
  template <std::size_t N>
  consteval MarkupLiteral(const char (&literal)[N]) : text(literal, N - 1) {}  // NOLINT: implicit
  std::string_view text;
};

/// Markup that is safe to place in the page as it is.
class Html {
 public:
  Html() = default;
  Html(MarkupLiteral literal) : markup_(literal.text) {}  // NOLINT: literals are markup

  /// Markup that did not come from a literal: the resources embedded at build time, and text made
  /// safe by escape_inline_script / script_safe_json. Never pass database text here.
  static Html trusted(std::string markup) {
    Html h;
    h.markup_ = std::move(markup);
    return h;
  }

  const std::string& str() const { return markup_; }
  bool empty() const { return markup_.empty(); }
  Html& operator+=(const Html& other) {
    markup_ += other.markup_;
    return *this;
  }
  Html& operator+=(MarkupLiteral literal) {
    markup_ += literal.text;
    return *this;
  }

 private:
  std::string markup_;
};

/// Escapes text for HTML element content and attribute values: & < > " ' become &amp; &lt; &gt;
/// &quot; &#39;.
std::string html_escape(std::string_view text);

/// Text as markup: html_escape(text).
inline Html escaped(std::string_view text) { return Html::trusted(html_escape(text)); }

/// Makes JSON text safe inside <script>: every '<' becomes \u003c (still the same JSON value).
std::string script_safe_json(std::string_view json_text);

/// Makes JavaScript source safe to place between <script> and </script>: every "</script" (any
/// case) becomes "<\/script" (so the HTML parser cannot end the element early) and every "<!--"
/// becomes "\x3C!--" (so it cannot switch the parser into its escaped script state). JavaScript
/// reads both the same inside string, template and regular-expression literals, the only places
/// they can occur.
std::string escape_inline_script(std::string_view js);

namespace detail {

// What each html() argument becomes: text is escaped, Html passes, numbers and bools are
// formatted by fmt (they cannot hold markup). Any other type does not compile.
inline std::string html_slot(std::string_view text) { return html_escape(text); }
inline std::string html_slot(const std::string& text) { return html_escape(text); }
inline std::string html_slot(const char* text) { return html_escape(text); }
inline const std::string& html_slot(const Html& markup) { return markup.str(); }
template <typename T>
requires(std::is_arithmetic_v<T> && !std::is_same_v<T, char>) T html_slot(T value) { return value; }

template <typename T>
using HtmlSlot = std::remove_cvref_t<decltype(html_slot(std::declval<const T&>()))>;

template <typename... Slots>
std::string format_slots(fmt::string_view format, const Slots&... slots) {
  return fmt::vformat(format, fmt::make_format_args(slots...));
}

}  // namespace detail

/// fmt::format over a literal format string (checked at compile time), with every std::string,
/// std::string_view or const char* argument escaped and every Html argument inserted as is.
template <typename... Args>
Html html(fmt::format_string<detail::HtmlSlot<Args>...> format, const Args&... args) {
  return Html::trusted(detail::format_slots(fmt::string_view(format), detail::html_slot(args)...));
}

/// `items` joined by `separator`.
template <typename Range>
Html join(const Range& items, MarkupLiteral separator) {
  Html out;
  bool first = true;
  for (const Html& item : items) {
    if (!first) out += separator;
    out += item;
    first = false;
  }
  return out;
}

}  // namespace lenetlab::report
