// Idea forms for benchmarks: about 1 KB of JSON each. The free text is random
// Vietnamese — syllables drawn from a list of common ones with a Zipf-like
// frequency (as in real prose, a few syllables are very common and most are
// rare), so compression figures are not flattered by repeated sentences.
#pragma once
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "shared/json.h"

namespace ocop::bench {

// Common Vietnamese syllables, roughly most frequent first.
inline const std::vector<std::string>& Syllables() {
  static const std::vector<std::string> kList = {
      "và", "của", "có", "là", "được", "các", "trong", "cho", "người", "không", "một", "những", "với", "đã", "này",
      "sản", "phẩm", "để", "ra", "đến", "khi", "từ", "theo", "nhiều", "làm", "xã", "hộ", "dân", "năm", "thôn",
      "chất", "lượng", "nguồn", "gốc", "địa", "phương", "tỉnh", "huyện", "hợp", "tác", "sinh", "thái", "trồng",
      "chế", "biến", "đóng", "gói", "bảo", "quản", "giá", "trị", "thương", "hiệu", "thị", "trường", "tiêu", "thụ",
      "nông", "nghiệp", "truyền", "thống", "làng", "nghề", "vùng", "đất", "nước", "khách", "hàng", "mua", "bán",
      "ngon", "ngọt", "thơm", "giòn", "sạch", "an", "toàn", "thực", "vệ", "mùa", "vụ", "thu", "hoạch", "cây",
      "quả", "lá", "hạt", "gạo", "chè", "mật", "ong", "tương", "rượu", "nấm", "rau", "đậu", "lạc", "vừng", "sen",
      "mây", "tre", "đan", "gỗ", "gốm", "vải", "lụa", "thêu", "dệt", "tay", "máy", "móc", "công", "nhân", "lao",
      "động", "vốn", "vay", "hỗ", "trợ", "kinh", "tế", "doanh", "thu", "lợi", "nhuận", "chi", "phí", "đầu", "tư",
      "mới", "cũ", "lớn", "nhỏ", "cao", "thấp", "xanh", "đỏ", "vàng", "trắng", "đen", "tím", "hồng", "nâu",
      "sông", "núi", "đồi", "ruộng", "vườn", "ao", "hồ", "suối", "rừng", "bản", "mường", "phố", "chợ", "đường",
      "ông", "bà", "cha", "mẹ", "anh", "chị", "em", "con", "cháu", "họ", "bạn", "thầy", "cô", "già", "trẻ",
      "ngày", "tháng", "tuần", "giờ", "sáng", "trưa", "chiều", "tối", "đêm", "xuân", "hạ", "đông", "lễ", "hội",
      "đẹp", "tốt", "hay", "giỏi", "khéo", "chăm", "siêng", "bền", "vững", "ổn", "định", "rõ", "ràng", "đầy", "đủ",
      "phát", "triển", "nâng", "cấp", "mở", "rộng", "liên", "kết", "chuỗi", "cung", "ứng", "quy", "trình", "chuẩn",
      "kiểm", "tra", "chứng", "nhận", "tem", "nhãn", "mã", "vạch", "bao", "bì", "hộp", "túi", "chai", "lọ", "bình",
      "xuất", "khẩu", "nội", "ngoại", "siêu", "thị", "cửa", "hàng", "mạng", "điện", "tử", "quảng", "bá", "du", "lịch",
      "trải", "nghiệm", "văn", "hoá", "lịch", "sử", "câu", "chuyện", "nét", "riêng", "đặc", "trưng", "tiếng",
      "nổi", "ưa", "chuộng", "khắp", "nơi", "xa", "gần", "quê", "hương", "tình", "yêu", "gìn", "giữ", "lưu",
      "truyền", "đời", "thế", "hệ", "nghìn", "trăm", "mười", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"};
  return kList;
}

// Draws `count` syllables with a Zipf-like frequency (weight 1 / rank).
inline std::string RandomVietnamese(int count, std::mt19937& rng) {
  static const std::vector<double> cumulative = [] {
    std::vector<double> c;
    double total = 0;
    for (size_t i = 0; i < Syllables().size(); ++i) c.push_back(total += 1.0 / static_cast<double>(i + 1));
    return c;
  }();
  std::uniform_real_distribution<double> u(0.0, cumulative.back());
  std::string out;
  for (int i = 0; i < count; ++i) {
    size_t k = static_cast<size_t>(std::lower_bound(cumulative.begin(), cumulative.end(), u(rng)) - cumulative.begin());
    if (i > 0) out += (rng() % 9 == 0) ? ", " : " ";
    out += Syllables()[std::min(k, Syllables().size() - 1)];
  }
  return out + ".";
}

inline json::Object SampleIdea(int i, std::mt19937& rng) {
  static const char* kKinds[] = {"enterprise", "cooperative", "cooperative_group", "household"};
  static const char* kFamily[] = {"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương"};
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  auto words = [&](int n) { return RandomVietnamese(n, rng); };
  auto title = [&](int n) {  // a proper name: n syllables, each capitalised the simple way (first byte, ASCII only)
    std::string s = words(n);
    s.pop_back();
    if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 32);
    return s;
  };
  std::string product = title(3);
  std::string person = std::string(kFamily[pick(12)]) + " " + title(2);
  json::Object o;
  o.set("subject_name", "Hợp tác xã " + title(2) + " " + std::to_string(i));
  o.set("subject_kind", kKinds[pick(4)]);
  o.set("representative", person);
  o.set("phone", "09" + std::to_string(10000000 + pick(89999999)));
  o.set("address", "Thôn " + std::to_string(1 + pick(12)) + ", " + words(4));
  o.set("product_name", product);
  o.set("is_new_idea", pick(2) == 0);
  o.set("product_group", Poco::Int64(1 + pick(6)));
  o.set("description", words(45 + pick(20)));
  o.set("packaging", words(6));
  o.set("brand_name", title(2));
  o.set("target_market", pick(2) ? "province" : "national");
  o.set("expected_output", static_cast<double>(1000 + pick(50000)));
  o.set("output_unit", "kg");
  o.set("retail_price_vnd", Poco::Int64(20000 + 1000 * pick(200)));
  o.set("product_story", words(30 + pick(15)));
  o.set("raw_materials", words(12 + pick(8)));
  return o;
}

}  // namespace ocop::bench
