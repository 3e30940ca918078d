#include "report/html.hpp"

#include <cctype>

namespace lenetlab::report {

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string script_safe_json(std::string_view json_text) {
  std::string out;
  out.reserve(json_text.size());
  for (const char c : json_text) {
    if (c == '<')
      out += "\\u003c";
    else
      out += c;
  }
  return out;
}

std::string escape_inline_script(std::string_view js) {
  static constexpr std::string_view kScript = "</script";
  std::string out;
  out.reserve(js.size());
  for (size_t i = 0; i < js.size(); ++i) {
    if (js[i] == '<' && js.substr(i, 4) == "<!--") {
      out += "\\x3C";
      continue;
    }
    if (js[i] == '<' && js.size() - i >= kScript.size()) {
      bool match = true;
      for (size_t k = 1; k < kScript.size() && match; ++k)
        match = std::tolower(static_cast<unsigned char>(js[i + k])) == kScript[k];
      if (match) {
        out += "<\\/";
        ++i;  // skip the '/', already written escaped
        continue;
      }
    }
    out += js[i];
  }
  return out;
}

}  // namespace lenetlab::report
