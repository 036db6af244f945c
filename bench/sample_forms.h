// Realistic idea forms for benchmarks: about 1 KB of JSON each, Vietnamese text
// drawn from the products of Vĩnh Phúc's OCOP plan.
#pragma once
#include <random>
#include <string>

#include "shared/json.h"

namespace ocop::bench {

inline json::Object SampleIdea(int i, std::mt19937& rng) {
  static const char* kProducts[] = {"Thanh long ruột đỏ Lập Thạch", "Su su Tam Đảo", "Chuối tiêu hồng Yên Lạc",
                                    "Ổi Đôn Nhân", "Dứa Hướng Đạo", "Gạo Phú Xuân", "Mật ong Sông Lô",
                                    "Trà sen Vĩnh Tường", "Tỏi đen Yên Lạc", "Tương Phúc Yên", "Chè hoa vàng Tam Đảo",
                                    "Nước khoáng Thác Bay", "Mây tre đan Sông Lô"};
  static const char* kNames[] = {"Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Hoàng Văn Em",
                                 "Vũ Thị Giang", "Đặng Văn Hùng", "Bùi Thị Lan"};
  static const char* kKinds[] = {"enterprise", "cooperative", "cooperative_group", "household"};
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  std::string product = kProducts[pick(13)];
  std::string person = kNames[pick(8)];
  json::Object o;
  o.set("subject_name", "Hợp tác xã " + product + " số " + std::to_string(i));
  o.set("subject_kind", kKinds[pick(4)]);
  o.set("representative", person);
  o.set("phone", "09" + std::to_string(10000000 + pick(89999999)));
  o.set("address", "Thôn " + std::to_string(1 + pick(12)) + ", xã Đôn Nhân, huyện Sông Lô, tỉnh Vĩnh Phúc");
  o.set("product_name", product);
  o.set("is_new_idea", pick(2) == 0);
  o.set("product_group", Poco::Int64(1 + pick(6)));
  o.set("description",
        "Sản phẩm " + product + " được trồng và chế biến theo quy trình VietGAP tại địa phương, có hương vị đặc "
        "trưng, được người tiêu dùng trong và ngoài tỉnh ưa chuộng. Giá trị cốt lõi là nguồn gốc rõ ràng, chất lượng "
        "ổn định và gắn với câu chuyện của vùng đất. Mã số " + std::to_string(i) + ".");
  o.set("packaging", "Hộp giấy 500 g, túi lưới 2 kg");
  o.set("brand_name", product + " " + person.substr(0, person.find(' ')));
  o.set("target_market", pick(2) ? "province" : "national");
  o.set("expected_output", static_cast<double>(1000 + pick(50000)));
  o.set("output_unit", "kg");
  o.set("retail_price_vnd", Poco::Int64(20000 + 1000 * pick(200)));
  o.set("product_story", "Câu chuyện về nghề truyền thống của làng, được lưu giữ qua nhiều thế hệ, gắn với lễ hội và "
                         "văn hoá của người dân " + std::to_string(pick(100)) + " năm nay.");
  o.set("raw_materials", "Nguyên liệu chính từ các hộ trong xã và các xã lân cận trong tỉnh");
  return o;
}

}  // namespace ocop::bench
