// Test sentences, written for these tests (not taken from any news).

/** Tags "ai" and, since the round-11 rules (AI beside an X-ray film in a clinic), "ehealth"; two emoji before the match make UTF-16 and rune offsets differ by 2. */
export const EMOJI_AI =
  "😀🎉 Hôm nay, một công ty khởi nghiệp ở Đà Nẵng giới thiệu hệ thống trí tuệ nhân tạo giúp bác sĩ đọc phim X-quang từ xa.";

/** Tags "semiconductors" and "ai". */
export const CHIP_AI = "Nhà máy đóng gói chip bán dẫn mới ở Bắc Ninh sản xuất vi mạch cho trung tâm dữ liệu trí tuệ nhân tạo.";

/** Tags "ai"; "semiconductors" matches ("chip") but stays under its threshold. */
export const AI_WEAK_CHIP = "Một ứng dụng trí tuệ nhân tạo mới chạy ngay trên chip của điện thoại, giúp dịch tiếng nói khi không có mạng.";

/**
 * Tags "semiconductors"; under their threshold, "ai" has weak terms no strong
 * term supports (DROP_REASON_UNSUPPORTED) and "drones" a match its exclusion
 * "nhac-drone" cancels (DROP_REASON_EXCLUDED). The emoji makes byte, rune and
 * UTF-16 offsets all differ.
 */
export const DROPPED = "🎧 Intel ra mắt chip mới, có robot và thuật toán. Tối nay nghe nhạc drone.";

/**
 * Tags nothing; "AI" on a nutrition label, with no word of computing near it,
 * is dropped for its setting (DROP_REASON_NEEDS_UNMET).
 */
export const NEEDS_UNMET = "Bảng dinh dưỡng ghi AI của chất xơ là 25 gam mỗi ngày.";

/** Tags "drones". */
export const DRONES = "Thử nghiệm máy bay không người lái giao hàng cho các xã vùng cao được mở rộng sang mùa mưa.";

/** Tags nothing. */
export const PLAIN = "Chợ hoa ven sông đông người vào buổi sáng cuối tuần, giá cúc vàng nhích nhẹ.";

/** The theme ids of the embedded default rules, in ruleset order. */
export const DEFAULT_THEMES = ["ai", "semiconductors", "ehealth", "drones", "green_transition"];

export function themesOf(tags: { theme: string }[]): string[] {
  return tags.map((t) => t.theme).sort();
}
