/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/sheet_opencv.cc - the review contact sheet (sheet.h) drawn
 * with OpenCV imgproc: thumbnails scaled with area averaging, boxes as
 * rectangles, labels in OpenCV's built-in Hershey font. No exception
 * leaves this file.
 */
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include <opencv2/imgproc.hpp>

#include "pixel/sheet.h"

namespace {
struct tile {
    cv::Mat before, after; // thumbnails, BGR-free: kept RGB throughout
    std::string label;
};
} // namespace

struct kk_sheet {
    int thumb, columns, after_only;
    std::vector<tile> tiles;
};

static const int kPad = 8, kLabel = 22;

kk_status kk_sheet__new(kk_sheet **out, kk_ctx *ctx, int thumb_width, int columns, int after_only)
{
    *out = new (std::nothrow) kk_sheet();
    if (!*out)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    (*out)->thumb = thumb_width > 16 ? thumb_width : 320;
    (*out)->columns = columns > 0 ? columns : 3;
    (*out)->after_only = after_only;
    return KK_OK;
}

void kk_sheet__free(kk_sheet *s) { delete s; }

static cv::Mat thumbnail(const uint8_t *rgb, int w, int h, int tw, int th)
{
    cv::Mat t(th, tw, CV_8UC3, cv::Scalar(40, 40, 40));
    if (!rgb) {
        cv::line(t, cv::Point(0, 0), cv::Point(tw - 1, th - 1), cv::Scalar(255, 0, 0), 2);
        cv::line(t, cv::Point(tw - 1, 0), cv::Point(0, th - 1), cv::Scalar(255, 0, 0), 2);
        return t;
    }
    cv::Mat src(h, w, CV_8UC3, const_cast<uint8_t *>(rgb));
    cv::resize(src, t, cv::Size(tw, th), 0, 0, cv::INTER_AREA);
    return t;
}

kk_status kk_sheet__add(kk_sheet *s, kk_ctx *ctx, const uint8_t *before, const uint8_t *after,
                        int width, int height, const kk_sheet_box *boxes, size_t nboxes,
                        const char *label)
{
    try {
        int tw = s->thumb;
        int th = width > 0 && height > 0 ? (int)((long long)tw * height / width) : tw * 3 / 4;
        if (th < 8)
            th = 8;
        if (th > tw * 2)
            th = tw * 2;
        tile t;
        t.before = thumbnail(before, width, height, tw, th);
        t.after = thumbnail(after, width, height, tw, th);
        double sx = width > 0 ? (double)tw / width : 1, sy = height > 0 ? (double)th / height : 1;
        static const cv::Scalar colours[] = { cv::Scalar(255, 40, 40), cv::Scalar(255, 220, 0),
                                              cv::Scalar(60, 120, 255) };
        for (size_t i = 0; before && i < nboxes; i++) {
            const kk_sheet_box &b = boxes[i];
            cv::Rect r((int)(b.x * sx), (int)(b.y * sy), (int)(b.w * sx) + 1, (int)(b.h * sy) + 1);
            cv::rectangle(t.before, r, colours[b.kind >= 0 && b.kind < 3 ? b.kind : 0], 1);
        }
        t.label = label ? label : "";
        s->tiles.push_back(t);
    } catch (const std::bad_alloc &) {
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    } catch (...) {
        return kk__fail(ctx, KK_EINTERNAL, "cannot draw a review tile");
    }
    return KK_OK;
}

kk_status kk_sheet__render(kk_sheet *s, kk_ctx *ctx, uint8_t **rgb, int *w, int *h)
{
    *rgb = NULL;
    try {
        int per = s->after_only ? 1 : 2;
        int cellw = per * s->thumb + (per - 1) * 2 + kPad;
        int cols = (int)s->tiles.size() < s->columns ? (int)s->tiles.size() : s->columns;
        if (cols < 1)
            cols = 1;
        int rows = ((int)s->tiles.size() + cols - 1) / cols;
        std::vector<int> rowh(rows > 0 ? rows : 1, 0);
        for (size_t i = 0; i < s->tiles.size(); i++) {
            int r = (int)i / cols;
            if (s->tiles[i].after.rows > rowh[r])
                rowh[r] = s->tiles[i].after.rows;
        }
        int W = kPad + cols * cellw, H = kPad;
        for (int r = 0; r < rows; r++)
            H += rowh[r] + kLabel + kPad;
        cv::Mat sheet(H, W, CV_8UC3, cv::Scalar(255, 255, 255));
        int y = kPad;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                size_t i = (size_t)(r * cols + c);
                if (i >= s->tiles.size())
                    break;
                const tile &t = s->tiles[i];
                int x = kPad + c * cellw;
                cv::putText(sheet, t.label, cv::Point(x, y + 15), cv::FONT_HERSHEY_SIMPLEX, 0.5,
                            cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
                int ty = y + kLabel;
                if (!s->after_only) {
                    t.before.copyTo(sheet(cv::Rect(x, ty, t.before.cols, t.before.rows)));
                    x += s->thumb + 2;
                }
                t.after.copyTo(sheet(cv::Rect(x, ty, t.after.cols, t.after.rows)));
            }
            y += rowh[r] + kLabel + kPad;
        }
        size_t n = (size_t)W * (size_t)H * 3;
        *rgb = static_cast<uint8_t *>(kk__malloc(n));
        if (!*rgb)
            return kk__fail(ctx, KK_ENOMEM, "out of memory");
        for (int r = 0; r < H; r++)
            memcpy(*rgb + (size_t)r * W * 3, sheet.ptr(r), (size_t)W * 3);
        *w = W;
        *h = H;
    } catch (const std::bad_alloc &) {
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    } catch (...) {
        return kk__fail(ctx, KK_EINTERNAL, "cannot draw the review sheet");
    }
    return KK_OK;
}
