// What a photo is, by its bytes. A visit's photos are shown as images in the
// officer's screens and the console; a text file or a spreadsheet attached by
// mistake would show as a broken image and travel over a slow link for
// nothing. Names and extensions lie; the first bytes of JPEG, PNG and WebP
// files do not.
#pragma once
#include <string>
#include <string_view>

namespace ocop::media {

// "jpeg", "png" or "webp"; "" when the bytes are none of them. `head` may be
// just the start of a file (12 bytes suffice).
std::string ImageKind(std::string_view head);

// Whether `head`, the first bytes of a file of `size` bytes (possibly fewer
// than 12 when the first chunk of an upload is small), can still be the start
// of a JPEG, PNG or WebP image.
bool CanBeImage(std::string_view head, long long size);

}  // namespace ocop::media
