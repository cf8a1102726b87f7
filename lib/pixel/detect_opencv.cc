/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/pixel/detect_opencv.cc - candidate text lines with OpenCV (see
 * detect.h). C++17 behind a C header: every entry point catches all
 * exceptions and returns a kk_status.
 *
 * Per polarity: (1) a top-hat (black-hat for dark text) with a kernel wider
 * than any stroke keeps thin structures and drops smooth background and
 * anatomy; (2) a threshold on it, the larger of a floor and Otsu's level
 * (then again at the floor, and on a 7 px top-hat that keeps strokes but
 * not a thicker bright structure glyphs touch, for lines not yet found);
 * (3) connected components, filtered by size and shape; (4) components
 * of similar height that overlap vertically and sit close horizontally
 * are chained into lines; (5) a line is kept when it is line-shaped (not
 * a heap of blobs), and its glyphs stand out from the top-hat around them
 * ("saliency": peak / 90th percentile of a ring around the line). That
 * last test is what rejects speckle: a cluster of grains is no brighter
 * than the grains beside it, while text over black or over speckle is.
 * Lines that pass only the weaker saliency bar get a score below 0.8, and
 * the caller drops them unless OCR reads them. Edge sharpness and the
 * plateau of flat glyph interiors add to the score. Lines of both
 * polarities may overlap; the caller merges.
 *
 * A group too tall to be a line, where glyphs were chained to a big blob
 * beside them (a tissue arc, the apex of a sector), is grouped again
 * without it, here and in the presence stage.
 *
 * Tuned on tests/tools/make_burned.py (seeds 1-12); known miss: text
 * lying on a bright tissue line as light as its glyphs (seed 8, us01).
 */
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <numeric>
#include <vector>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "pixel/detect.h"

namespace {

/* Tunables, in frame pixels and grey levels. Glyphs of 6..64 px high are
 * searched: 8 px fonts render capitals about 6 px high. */
constexpr int kMinGlyphH = 4;
constexpr int kMaxGlyphH = 72;
constexpr int kMinContrast = 40;  /* top-hat floor */

struct Comp {
    int x, y, w, h, area;
    int maxth;      /* peak top-hat value */
    float sharp;    /* peak gradient / peak top-hat: ~1 for step edges */
    float plateau;  /* fraction of pixels within 25% of the peak grey */
    int maxsrc;     /* peak grey (in the polarity's orientation) */
    int group;
};

struct Dsu {
    std::vector<int> p;
    explicit Dsu(size_t n) : p(n) { std::iota(p.begin(), p.end(), 0); }
    int find(int a) { while (p[a] != a) a = p[a] = p[p[a]]; return a; }
    void join(int a, int b) { a = find(a); b = find(b); if (a != b) p[std::max(a, b)] = std::min(a, b); }
};

/* The 8-connected components of a binary image: labels (CV_32S) and, per
 * label, a row of stats as connectedComponentsWithStats() gives them
 * (left, top, width, height, area). OpenCV 4.6's own statistics cost ten
 * times its labelling, zeros included (0.4 ms for 256x256 against 0.04 ms
 * measured): here they come from one pass over the set pixels, which are
 * few, eight bytes at a time. Same labels, same stats. */
int label_components(const cv::Mat &bin, cv::Mat &labels, cv::Mat &stats)
{
    int n = cv::connectedComponents(bin, labels, 8, CV_32S);
    stats.create(n, cv::CC_STAT_MAX, CV_32S);
    std::vector<int> x1(n, -1), y1(n, -1);
    for (int i = 0; i < n; i++) {
        int *s = stats.ptr<int>(i);
        s[cv::CC_STAT_LEFT] = bin.cols;
        s[cv::CC_STAT_TOP] = bin.rows;
        s[cv::CC_STAT_WIDTH] = s[cv::CC_STAT_HEIGHT] = s[cv::CC_STAT_AREA] = 0;
    }
    for (int y = 0; y < bin.rows; y++) {
        const uint8_t *b = bin.ptr<uint8_t>(y);
        const int *l = labels.ptr<int>(y);
        for (int x = 0; x < bin.cols; x++) {
            if (x + 8 <= bin.cols) {
                uint64_t w;
                std::memcpy(&w, b + x, 8);
                if (!w) {
                    x += 7;
                    continue;
                }
            }
            int k = l[x];
            if (!k)
                continue;
            int *s = stats.ptr<int>(k);
            s[cv::CC_STAT_LEFT] = std::min(s[cv::CC_STAT_LEFT], x);
            s[cv::CC_STAT_TOP] = std::min(s[cv::CC_STAT_TOP], y);
            x1[k] = std::max(x1[k], x);
            y1[k] = y;
            s[cv::CC_STAT_AREA]++;
        }
    }
    for (int i = 1; i < n; i++) {
        int *s = stats.ptr<int>(i);
        s[cv::CC_STAT_WIDTH] = x1[i] - s[cv::CC_STAT_LEFT] + 1;
        s[cv::CC_STAT_HEIGHT] = y1[i] - s[cv::CC_STAT_TOP] + 1;
    }
    return n;
}

int median_of(std::vector<int> &v)
{
    if (v.empty())
        return 0;
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
}

/* Components of one polarity with their features. src is oriented so that
 * text is brighter than its background. */
/* The top-hat of src and the level to threshold it at: Otsu's, which
 * splits glyphs from noise, capped so that text of modest contrast on a
 * bright structure still passes, and never below the floor. */
double top_hat(const cv::Mat &src, cv::Mat &th, int k)
{
    cv::Mat bin;
    cv::morphologyEx(src, th, cv::MORPH_TOPHAT, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(k, k)));
    double otsu = cv::threshold(th, bin, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU);
    return std::max<double>(kMinContrast, std::min(otsu, 70.0));
}

void find_components(const cv::Mat &src, std::vector<Comp> &comps, cv::Mat &labels,
                     const cv::Mat &th, double t)
{
    cv::Mat bin, stats;
    cv::threshold(th, bin, t - 1, 255, cv::THRESH_BINARY);
    int n = label_components(bin, labels, stats);

    cv::Mat gx, gy;
    cv::Sobel(src, gx, CV_16S, 1, 0, 3);
    cv::Sobel(src, gy, CV_16S, 0, 1, 3);

    comps.assign(n, Comp{});
    std::vector<int> maxg(n, 0);
    for (int i = 1; i < n; i++) {
        Comp &c = comps[i];
        c.x = stats.at<int>(i, cv::CC_STAT_LEFT);
        c.y = stats.at<int>(i, cv::CC_STAT_TOP);
        c.w = stats.at<int>(i, cv::CC_STAT_WIDTH);
        c.h = stats.at<int>(i, cv::CC_STAT_HEIGHT);
        c.area = stats.at<int>(i, cv::CC_STAT_AREA);
        c.group = -1;
    }
    for (int y = 0; y < src.rows; y++) {
        const int *lr = labels.ptr<int>(y);
        const uint8_t *tr = th.ptr<uint8_t>(y);
        const uint8_t *sr = src.ptr<uint8_t>(y);
        const int16_t *xr = gx.ptr<int16_t>(y), *yr = gy.ptr<int16_t>(y);
        for (int x = 0; x < src.cols; x++) {
            int l = lr[x];
            if (!l)
                continue;
            Comp &c = comps[l];
            c.maxth = std::max<int>(c.maxth, tr[x]);
            c.maxsrc = std::max<int>(c.maxsrc, sr[x]);
            maxg[l] = std::max(maxg[l], std::abs(xr[x]) + std::abs(yr[x]));
        }
    }
    std::vector<int> top(n, 0);
    for (int y = 0; y < src.rows; y++) {
        const int *lr = labels.ptr<int>(y);
        const uint8_t *sr = src.ptr<uint8_t>(y);
        const uint8_t *tr = th.ptr<uint8_t>(y);
        for (int x = 0; x < src.cols; x++) {
            int l = lr[x];
            if (l && sr[x] >= comps[l].maxsrc - comps[l].maxth / 4 && tr[x] > 0)
                top[l]++;
        }
    }
    for (int i = 1; i < n; i++) {
        Comp &c = comps[i];
        /* |gx|+|gy| of a 3x3 Sobel across a one-pixel step of height A is 4A */
        c.sharp = c.maxth > 0 ? (float)maxg[i] / (4.0f * (float)c.maxth) : 0.0f;
        c.plateau = c.area > 0 ? (float)top[i] / (float)c.area : 0.0f;
    }
}

bool glyph_like(const Comp &c)
{
    if (c.h < 2 || c.h > kMaxGlyphH || c.w > 4 * kMaxGlyphH)
        return false;
    if (c.area < 3)
        return false;
    /* a long thin thing: a tick, a line, the edge of the sector */
    if (c.w > 12 * c.h && c.h <= 4)
        return false;
    if (c.h > 8 * c.w && c.w <= 3 && c.h > 20)
        return false;
    return true;
}

/* Chain the components idx into lines, appended to lines. */
void group_lines(std::vector<Comp> &comps, std::vector<int> idx, std::vector<std::vector<int>> &lines)
{
    std::sort(idx.begin(), idx.end(), [&](int a, int b) { return comps[a].x < comps[b].x; });
    Dsu dsu(comps.size());
    for (size_t ii = 0; ii < idx.size(); ii++) {
        const Comp &a = comps[idx[ii]];
        for (size_t jj = ii + 1; jj < idx.size(); jj++) {
            const Comp &b = comps[idx[jj]];
            int hmax = std::max(a.h, b.h), hmin = std::min(a.h, b.h);
            int gap = b.x - (a.x + a.w);
            if (gap > hmax)
                break; /* sorted by x: no later b is closer */
            if (gap > hmax * 0.9 + 1)
                continue;
            int ov = std::min(a.y + a.h, b.y + b.h) - std::max(a.y, b.y);
            if (ov <= 0)
                continue;
            bool similar = hmax <= 2 * hmin + 2 && ov * 2 >= hmin;
            /* a small part inside a taller glyph's span: punctuation,
             * dakuten, the pieces of a kanji */
            bool inside = ov >= hmin - 1 && hmin * 4 >= hmax;
            if (similar || inside)
                dsu.join(idx[ii], idx[jj]);
        }
    }
    std::vector<int> root_to_line(comps.size(), -1);
    for (int i : idx) {
        int r = dsu.find(i);
        if (root_to_line[r] < 0) {
            root_to_line[r] = (int)lines.size();
            lines.emplace_back();
        }
        lines[root_to_line[r]].push_back(i);
        comps[i].group = root_to_line[r];
    }
}

/* The median of (value, weight) pairs by weight: the glyph height of a
 * group, weighted by area, where speckle grains chained along an arc are
 * many but small. 0 when empty. */
int weighted_median(std::vector<std::pair<int, int>> &v)
{
    long total = 0, acc = 0;
    for (const auto &p : v)
        total += p.second;
    std::sort(v.begin(), v.end());
    for (const auto &p : v)
        if (2 * (acc += p.second) >= total)
            return p.first;
    return 0;
}

/* The glyph height of the members of a group but the biggest (by box),
 * which *big names: a blob the glyphs were chained to. */
template <class C, class I>
int height_but_biggest(const std::vector<C> &c, const std::vector<I> &members, I *big)
{
    *big = members[0];
    for (I k : members)
        if ((long)c[k].w * c[k].h > (long)c[*big].w * c[*big].h)
            *big = k;
    std::vector<std::pair<int, int>> ha;
    for (I k : members)
        if (k != *big)
            ha.emplace_back(c[k].h, c[k].area);
    return weighted_median(ha);
}

/* A group too tall to be a line may be a row of glyphs chained to one
 * big thing beside them (a bright tissue arc above a name, a bar, the
 * edge of the sector): the "inside" rule joins every glyph whose span
 * lies within the big thing's. The members of a glyph's height, without
 * the big ones, are grouped again. */
bool regroup_without_big(std::vector<Comp> &comps, const std::vector<int> &members,
                         std::vector<std::vector<int>> &lines)
{
    if (members.size() < 3)
        return false;
    int big = 0;
    int gh = height_but_biggest(comps, members, &big);
    std::vector<int> keep;
    for (int i : members)
        if (i != big && comps[i].h * 2 <= 3 * gh + 4 && comps[i].w <= 4 * gh + 4 &&
            comps[i].h * 3 >= gh)
            keep.push_back(i);
    if (keep.size() < 2 || keep.size() == members.size())
        return false;
    group_lines(comps, keep, lines);
    return true;
}

/* Judge one grouped line; fill *out and return true when it is text. */
/* How far the line's glyphs stand out from the top-hat around them: text
 * over black or over speckle stands out; a cluster of speckle does not. */
float saliency(const cv::Mat &th, int x0, int y0, int x1, int y1, int gh, int peak)
{
    int m = std::max(6, gh);
    int xa = std::max(0, x0 - m), xb = std::min(th.cols, x1 + m);
    int ya = std::max(0, y0 - m / 2), yb = std::min(th.rows, y1 + m / 2);
    int hist[256] = { 0 }, cnt = 0;
    for (int y = ya; y < yb; y++) {
        const uint8_t *r = th.ptr<uint8_t>(y);
        for (int x = xa; x < xb; x++)
            if (y < y0 || y >= y1 || x < x0 || x >= x1) {
                hist[r[x]]++;
                cnt++;
            }
    }
    int want = cnt - cnt / 10, acc = 0, p90 = 0;
    for (int v = 0; v < 256; v++) {
        acc += hist[v];
        if (acc >= want) {
            p90 = v;
            break;
        }
    }
    return (float)peak / (float)std::max(12, p90);
}

/* Shape of a line: how alike its components' heights are, how well their
 * bottoms line up (descenders and punctuation aside: means of absolute
 * deviations from the medians, over the components at least half the
 * median height), and the stroke width from a distance transform of its
 * pixels (a stroke of width s has a mean distance of about s/4). */
void line_shape(const std::vector<Comp> &comps, const std::vector<int> &members,
                const cv::Mat &labels, int x0, int y0, int x1, int y1, int gh, kk_detect_line *out)
{
    std::vector<int> bottoms;
    for (int i : members)
        if (comps[i].h * 2 >= gh)
            bottoms.push_back(comps[i].y + comps[i].h);
    int mb = median_of(bottoms);
    float hs = 0, bs = 0;
    int nb = 0;
    for (int i : members) {
        const Comp &c = comps[i];
        hs += (float)std::abs(c.h - gh);
        if (c.h * 2 >= gh) {
            bs += (float)std::abs(c.y + c.h - mb);
            nb++;
        }
    }
    out->h_spread = hs / (float)members.size() / (float)std::max(1, gh);
    out->base_spread = nb ? bs / (float)nb / (float)std::max(1, gh) : 0.0f;
    int g = comps[members[0]].group;
    cv::Mat mask(y1 - y0, x1 - x0, CV_8U);
    for (int y = y0; y < y1; y++) {
        const int *lr = labels.ptr<int>(y);
        uint8_t *mr = mask.ptr<uint8_t>(y - y0);
        for (int x = x0; x < x1; x++)
            mr[x - x0] = lr[x] && comps[lr[x]].group == g ? 255 : 0;
    }
    cv::Mat dt;
    cv::distanceTransform(mask, dt, cv::DIST_L2, 3);
    double sum = 0;
    int cnt = 0;
    for (int y = 0; y < dt.rows; y++) {
        const float *dr = dt.ptr<float>(y);
        const uint8_t *mr = mask.ptr<uint8_t>(y);
        for (int x = 0; x < dt.cols; x++)
            if (mr[x]) {
                sum += dr[x];
                cnt++;
            }
    }
    out->stroke = cnt ? (float)(4.0 * sum / cnt) / (float)std::max(1, gh) : 0.0f;
}

bool judge_line(const std::vector<Comp> &comps, const std::vector<int> &members, int polarity,
                const cv::Mat &th, const cv::Mat &labels, kk_detect_line *out)
{
    int x0 = 1 << 30, y0 = 1 << 30, x1 = -1, y1 = -1;
    std::vector<int> hs, levels;
    float sharp = 0, plateau = 0;
    int area = 0, maxth = 0;
    for (int i : members) {
        const Comp &c = comps[i];
        x0 = std::min(x0, c.x);
        y0 = std::min(y0, c.y);
        x1 = std::max(x1, c.x + c.w);
        y1 = std::max(y1, c.y + c.h);
        hs.push_back(c.h);
        levels.push_back(c.maxsrc);
        sharp += c.sharp * c.area;
        plateau += c.plateau * c.area;
        area += c.area;
        maxth = std::max(maxth, c.maxth);
    }
    sharp /= (float)area;
    std::vector<int> peaks;
    for (int i : members)
        peaks.push_back(comps[i].maxth);
    float sal = saliency(th, x0, y0, x1, y1, median_of(hs), median_of(peaks));
    plateau /= (float)area;
    int gh = median_of(hs);
    int n = (int)members.size();
    int bw = x1 - x0, bh = y1 - y0;
    float fill = (float)area / (float)(bw * bh);

    if (gh < kMinGlyphH && bh < kMinGlyphH + 1)
        return false;
    if (bh > kMaxGlyphH || bh > 2 * gh + 6)
        return false; /* a heap of blobs, not a line */
    if (fill < 0.08f || fill > 0.85f)
        return false;
    /* speckle clusters barely stand out from the speckle around them */
    bool weak = sal < 2.5f;
    if (weak && !(sal >= 1.8f && n >= 3 && plateau >= 0.6f && sharp >= 1.0f))
        return false;
    /* a lone component: a small one is a speckle grain or a tick; a big
     * one must be solid like a glyph, not a thin arc of tissue */
    if (n == 1 && (gh <= 7 || plateau < 0.5f || fill < 0.25f))
        return false;
    /* two: flat inside like glyphs, and not long thin pieces of a
     * speckled tissue arc ("11" is thin but short) */
    if (n == 2 && (plateau < 0.35f || (fill < 0.3f && bw > 3 * bh)))
        return false;
    float score = 0.4f * std::min(1.0f, sharp) + 0.2f * std::min(1.0f, plateau * 1.5f) +
                  0.4f * std::min(1.0f, sal / 8.0f);
    if (score < 0.45f)
        return false;
    if (weak)
        score = std::min(score, 0.6f); /* OCR must confirm it */
    out->x = x0;
    out->y = y0;
    out->w = bw;
    out->h = bh;
    out->polarity = polarity;
    out->glyph_h = gh;
    out->ncomp = n;
    out->score = score;
    out->text_level = polarity > 0 ? median_of(levels) : 255 - median_of(levels);
    out->bg_level = -1; /* filled by the caller from the frame */
    out->saliency = sal;
    out->sharp = sharp;
    out->plateau = plateau;
    out->fill = fill;
    line_shape(comps, members, labels, x0, y0, x1, y1, gh, out);
    out->regularity = 0;
    return true;
}

void background_level(const cv::Mat &g, kk_detect_line *l)
{
    /* the median of a ring of pixels just outside the box */
    std::vector<int> v;
    int m = std::max(2, l->glyph_h / 3);
    int xa = std::max(0, l->x - m), xb = std::min(g.cols, l->x + l->w + m);
    int ya = std::max(0, l->y - m), yb = std::min(g.rows, l->y + l->h + m);
    for (int y = ya; y < yb; y++)
        for (int x = xa; x < xb; x++)
            if (y < l->y || y >= l->y + l->h || x < l->x || x >= l->x + l->w)
                v.push_back(g.at<uint8_t>(y, x));
    l->bg_level = v.empty() ? (l->polarity > 0 ? 0 : 255) : median_of(v);
}

/* --- the presence stage ------------------------------------------------ */

/* 2x2 maximum and minimum (kk_detect__pool2) of a continuous Mat. */
void pool2(const cv::Mat &g, cv::Mat &mx, cv::Mat &mn)
{
    mx.create((g.rows + 1) / 2, (g.cols + 1) / 2, CV_8U);
    mn.create((g.rows + 1) / 2, (g.cols + 1) / 2, CV_8U);
    kk_detect__pool2(g.ptr<uint8_t>(0), g.cols, g.rows, mx.ptr<uint8_t>(0), mn.ptr<uint8_t>(0));
}

struct PBlob { int x, y, w, h, area; };

/* Regions of glyph-sized components side by side (see presence_regions). */
static void group_presence(const std::vector<PBlob> &all, std::vector<cv::Rect> &out)
{
    typedef PBlob B;
    std::vector<B> c;
    const int maxh = kMaxGlyphH / 2;
    for (const B &b : all) {
        if (b.h < 2 || b.h > maxh || b.w > 4 * maxh || b.area < 2)
            continue;
        if ((b.w > 12 * b.h && b.h <= 2) || (b.h > 8 * b.w && b.w <= 2 && b.h > 10))
            continue;
        c.push_back(b);
    }
    std::sort(c.begin(), c.end(), [](const B &a, const B &b) { return a.x < b.x; });
    Dsu dsu(c.size());
    for (size_t i = 0; i < c.size(); i++)
        for (size_t j = i + 1; j < c.size(); j++) {
            int hmax = std::max(c[i].h, c[j].h), hmin = std::min(c[i].h, c[j].h);
            int gap = c[j].x - (c[i].x + c[i].w);
            if (gap > hmax + 2)
                break;
            int ov = std::min(c[i].y + c[i].h, c[j].y + c[j].h) - std::max(c[i].y, c[j].y);
            if (ov > 0 && (hmax <= 2 * hmin + 2 || (ov >= hmin - 1 && hmin * 4 >= hmax)))
                dsu.join((int)i, (int)j);
        }
    std::vector<int> cnt(c.size(), 0);
    std::vector<cv::Rect> box(c.size());
    for (size_t i = 0; i < c.size(); i++) {
        int r = dsu.find((int)i);
        cv::Rect b(c[i].x, c[i].y, c[i].w, c[i].h);
        box[r] = cnt[r]++ ? (box[r] | b) : b;
    }
    for (size_t i = 0; i < c.size(); i++) {
        if (!cnt[i])
            continue;
        const cv::Rect &b = box[i];
        if (b.height > maxh + 3) {
            /* a heap of blobs, not a line; or a row of glyphs chained to
             * a big blob beside them (the apex of a sector, a tissue
             * arc): chain its glyph-sized members again, by like height
             * only */
            std::vector<size_t> mem;
            for (size_t k = 0; k < c.size(); k++)
                if (dsu.find((int)k) == (int)i)
                    mem.push_back(k);
            size_t big = i;
            int gh = height_but_biggest(c, mem, &big);
            std::vector<size_t> keep;
            for (size_t k : mem)
                if (k != big && c[k].h * 2 <= 3 * gh + 4 && c[k].h * 3 >= gh && c[k].h >= 3)
                    keep.push_back(k);
            Dsu d2(keep.size());
            for (size_t a = 0; a < keep.size(); a++)
                for (size_t e = a + 1; e < keep.size(); e++) {
                    const B &p = c[keep[a]], &q = c[keep[e]];
                    int hmax = std::max(p.h, q.h), hmin = std::min(p.h, q.h);
                    int gap = q.x - (p.x + p.w);
                    if (gap > hmax + 2)
                        break;
                    int ov = std::min(p.y + p.h, q.y + q.h) - std::max(p.y, q.y);
                    if (ov * 2 >= hmin && hmax <= 2 * hmin + 2)
                        d2.join((int)a, (int)e);
                }
            std::vector<int> n2(keep.size(), 0);
            std::vector<cv::Rect> b2(keep.size());
            for (size_t a = 0; a < keep.size(); a++) {
                int r = d2.find((int)a);
                cv::Rect kb(c[keep[a]].x, c[keep[a]].y, c[keep[a]].w, c[keep[a]].h);
                b2[r] = n2[r]++ ? (b2[r] | kb) : kb;
            }
            for (size_t a = 0; a < keep.size(); a++)
                if (n2[a] >= 3 && b2[a].height <= maxh + 3)
                    out.push_back(b2[a]);
            continue;
        }
        if (cnt[i] == 1) {
            /* a lone component: a word whose glyphs the pooling joined
             * (wider than high, solid like strokes), or nothing worth
             * reading; a lone glyph alone names no one */
            const B &one = c[i];
            if (one.h < 3 || one.w < 2 * one.h || one.area * 4 < one.w * one.h ||
                (one.h > 5 && one.area * 10 > one.w * one.h * 8))
                continue; /* (pooled, the glyphs of 6-10 px text fill a bar:
                             9 px kanji fill 83% of theirs) */
        }
        out.push_back(b);
    }
}

/* Half-resolution regions of one polarity: th is the top-hat (light) or
 * black-hat (dark) of the pooled frame. cols: the same components grouped
 * one under the other (in transposed coordinates, as rows of th.t()). */
void presence_regions(const cv::Mat &th, std::vector<cv::Rect> &out, std::vector<cv::Rect> *cols)
{
    cv::Mat bin, labels, stats;
    /* a floor below the detector's (kMinContrast): the pooled top-hat of
     * a thin stroke may peak a little lower than at full resolution */
    cv::threshold(th, bin, kMinContrast * 3 / 4 - 1, 255, cv::THRESH_BINARY);
    int n = label_components(bin, labels, stats);
    std::vector<PBlob> all;
    for (int i = 1; i < n; i++)
        all.push_back(PBlob{ stats.at<int>(i, cv::CC_STAT_LEFT), stats.at<int>(i, cv::CC_STAT_TOP),
                             stats.at<int>(i, cv::CC_STAT_WIDTH),
                             stats.at<int>(i, cv::CC_STAT_HEIGHT),
                             stats.at<int>(i, cv::CC_STAT_AREA) });
    group_presence(all, out);
    if (cols) {
        for (PBlob &b : all) {
            std::swap(b.x, b.y);
            std::swap(b.w, b.h);
        }
        group_presence(all, *cols);
    }
}

bool box_overlaps(const kk_detect_line &a, const kk_detect_line &b)
{
    int ox = std::min(a.x + a.w, b.x + b.w) - std::max(a.x, b.x);
    int oy = std::min(a.y + a.h, b.y + b.h) - std::max(a.y, b.y);
    if (ox <= 0 || oy <= 0)
        return false;
    long amin = std::min((long)a.w * a.h, (long)b.w * b.h);
    return 10L * ox * oy >= 3 * amin;
}

/* The lines of one polarity in th thresholded at t, appended to found
 * unless they overlap one found at an earlier level (from index from). */
void lines_at(const cv::Mat &g, const cv::Mat &src, const cv::Mat &th, double t, int polarity,
              std::vector<kk_detect_line> &found, size_t from)
{
    std::vector<Comp> comps;
    cv::Mat labels;
    find_components(src, comps, labels, th, t);
    std::vector<std::vector<int>> lines;
    std::vector<int> idx;
    for (size_t i = 1; i < comps.size(); i++)
        if (glyph_like(comps[i]))
            idx.push_back((int)i);
    group_lines(comps, idx, lines);
    size_t first = lines.size(), earlier = found.size();
    for (size_t li = 0; li < lines.size(); li++) {
        kk_detect_line l{};
        if (judge_line(comps, lines[li], polarity, th, labels, &l)) {
            bool seen = false;
            for (size_t k = from; k < earlier && !seen; k++)
                seen = box_overlaps(found[k], l);
            if (seen)
                continue;
            background_level(g, &l);
            found.push_back(l);
        } else if (li < first) {
            /* a copy: regrouping appends to lines */
            std::vector<int> members = lines[li];
            regroup_without_big(comps, members, lines);
        }
    }
}

} // namespace

/* Half-resolution regions back to full resolution, with room for what
 * the half-resolution pass did not see of the line (a faint glyph at
 * either end: along the line a wide margin, across it a narrow one),
 * overlapping ones merged; columns: regions of the transposed frame. */
static void to_frame(const std::vector<cv::Rect> &half, bool columns, bool wide, int width,
                     int height, std::vector<cv::Rect> &r)
{
    cv::Rect frame(0, 0, width, height);
    for (const cv::Rect &b : half) {
        int gh = 2 * b.height;
        int along = wide ? std::max(48, 6 * gh) : std::max(24, 3 * gh), across = std::max(12, gh);
        cv::Rect f(2 * b.x - along, 2 * b.y - across, 2 * b.width + 2 * along,
                   2 * b.height + 2 * across);
        if (columns)
            f = cv::Rect(f.y, f.x, f.height, f.width);
        r.push_back(f & frame);
    }
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < r.size() && !changed; i++)
            for (size_t j = i + 1; j < r.size(); j++)
                if ((r[i] & r[j]).area() > 0) {
                    r[i] = r[i] | r[j];
                    r.erase(r.begin() + (long)j);
                    changed = true;
                    break;
                }
    }
}

static kk_status rects_out(kk_ctx *ctx, const std::vector<cv::Rect> &r, kk_detect_rect **out,
                           size_t *n)
{
    if (r.empty())
        return KK_OK;
    kk_detect_rect *arr = (kk_detect_rect *)kk__malloc(r.size() * sizeof *arr);
    if (!arr)
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    for (size_t i = 0; i < r.size(); i++)
        arr[i] = kk_detect_rect{ r[i].x, r[i].y, r[i].width, r[i].height };
    *out = arr;
    *n = r.size();
    return KK_OK;
}

extern "C" void kk_detect__pool2(const uint8_t *g, int width, int height, uint8_t *mx,
                                 uint8_t *mn)
{
    int w2 = (width + 1) / 2, h2 = (height + 1) / 2;
    for (int y = 0; y < h2; y++) {
        const uint8_t *r0 = g + (size_t)(2 * y) * width;
        const uint8_t *r1 = g + (size_t)std::min(2 * y + 1, height - 1) * width;
        uint8_t *a = mx + (size_t)y * w2, *b = mn + (size_t)y * w2;
        int x = 0;
#ifdef __SSE2__
        /* 16 at a time: this runs on every frame (a third of the stage's
         * time in the scalar loop alone) */
        const __m128i lowb = _mm_set1_epi16(0x00FF);
        for (; 2 * x + 32 <= width; x += 16) {
            __m128i p0 = _mm_loadu_si128((const __m128i *)(const void *)(r0 + 2 * x));
            __m128i p1 = _mm_loadu_si128((const __m128i *)(const void *)(r0 + 2 * x + 16));
            __m128i q0 = _mm_loadu_si128((const __m128i *)(const void *)(r1 + 2 * x));
            __m128i q1 = _mm_loadu_si128((const __m128i *)(const void *)(r1 + 2 * x + 16));
            __m128i h0 = _mm_max_epu8(p0, q0), h1 = _mm_max_epu8(p1, q1);
            __m128i l0 = _mm_min_epu8(p0, q0), l1 = _mm_min_epu8(p1, q1);
            /* the pair in each 16-bit lane: even byte low, odd byte high */
            __m128i hh = _mm_packus_epi16(_mm_max_epu8(_mm_and_si128(h0, lowb), _mm_srli_epi16(h0, 8)),
                                          _mm_max_epu8(_mm_and_si128(h1, lowb), _mm_srli_epi16(h1, 8)));
            __m128i ll = _mm_packus_epi16(_mm_min_epu8(_mm_and_si128(l0, lowb), _mm_srli_epi16(l0, 8)),
                                          _mm_min_epu8(_mm_and_si128(l1, lowb), _mm_srli_epi16(l1, 8)));
            _mm_storeu_si128((__m128i *)(void *)(a + x), hh);
            _mm_storeu_si128((__m128i *)(void *)(b + x), ll);
        }
#endif
        for (; 2 * x + 1 < width; x++) {
            uint8_t p = r0[2 * x], q = r0[2 * x + 1], r = r1[2 * x], s = r1[2 * x + 1];
            uint8_t hi1 = p > q ? p : q, hi2 = r > s ? r : s, lo1 = p < q ? p : q, lo2 = r < s ? r : s;
            a[x] = hi1 > hi2 ? hi1 : hi2;
            b[x] = lo1 < lo2 ? lo1 : lo2;
        }
        if (x < w2) {
            uint8_t p = r0[2 * x], r = r1[2 * x];
            a[x] = p > r ? p : r;
            b[x] = p < r ? p : r;
        }
    }
}

extern "C" kk_status kk_detect__presence(kk_ctx *ctx, const uint8_t *gray, int width, int height,
                                         bool wide, kk_detect_rect **out, size_t *n,
                                         kk_detect_rect **cols, size_t *ncols)
{
    *out = NULL;
    *n = 0;
    if (cols) {
        *cols = NULL;
        *ncols = 0;
    }
    if (!gray || width <= 0 || height <= 0 || width > 65536 || height > 65536)
        return kk__fail(ctx, KK_EINVAL, "text detection: bad image size");
    try {
        cv::Mat g(height, width, CV_8U, const_cast<uint8_t *>(gray));
        cv::Mat mx, mn, th;
        pool2(g, mx, mn);
        cv::Mat k = cv::getStructuringElement(cv::MORPH_RECT, cv::Size(9, 9));
        std::vector<cv::Rect> half, halfc;
        /* glyphs side by side in rows; in columns, the same components
         * one under the other (text top to bottom) */
        cv::morphologyEx(mx, th, cv::MORPH_TOPHAT, k);
        presence_regions(th, half, cols ? &halfc : nullptr);
        cv::morphologyEx(mn, th, cv::MORPH_BLACKHAT, k);
        presence_regions(th, half, cols ? &halfc : nullptr);
        std::vector<cv::Rect> r, rc;
        to_frame(half, false, wide, width, height, r);
        to_frame(halfc, true, wide, width, height, rc);
        kk_status st = rects_out(ctx, r, out, n);
        if (st == KK_OK && cols)
            st = rects_out(ctx, rc, cols, ncols);
        if (st != KK_OK) {
            kk_free(*out);
            *out = NULL;
            *n = 0;
        }
        return st;
    } catch (const std::bad_alloc &) {
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    } catch (...) {
        return kk__fail(ctx, KK_EINTERNAL, "text detection failed (OpenCV)");
    }
}

extern "C" kk_status kk_detect__lines(kk_ctx *ctx, const uint8_t *gray, int width, int height,
                                      kk_detect_line **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!gray || width <= 0 || height <= 0 || width > 65536 || height > 65536)
        return kk__fail(ctx, KK_EINVAL, "text detection: bad image size");
    try {
        cv::Mat g(height, width, CV_8U, const_cast<uint8_t *>(gray));
        std::vector<kk_detect_line> found;
        for (int polarity : { 1, -1 }) {
            cv::Mat src;
            if (polarity > 0)
                src = g;
            else
                cv::bitwise_not(g, src);
            cv::Mat th;
            double t = top_hat(src, th, 15);
            size_t before = found.size();
            lines_at(g, src, th, t, polarity, found, before);
            /* where strong edges (a picture's border, bright anatomy) push
             * Otsu's level up, the strokes of low-contrast text fall
             * below it: look again at the floor, for lines not found yet */
            if (t > kMinContrast + 8)
                lines_at(g, src, th, kMinContrast, polarity, found, before);
            /* glyphs that touch a thicker bright structure (a tissue line
             * along the top of a name, a bar) join it in the wide top-hat:
             * a narrow one keeps strokes only */
            t = top_hat(src, th, 7);
            lines_at(g, src, th, t, polarity, found, before);
        }
        if (found.empty())
            return KK_OK;
        kk_detect_line *arr = (kk_detect_line *)kk__malloc(found.size() * sizeof *arr);
        if (!arr)
            return kk__fail(ctx, KK_ENOMEM, "out of memory");
        std::memcpy(arr, found.data(), found.size() * sizeof *arr);
        *out = arr;
        *n = found.size();
        return KK_OK;
    } catch (const std::bad_alloc &) {
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    } catch (...) {
        return kk__fail(ctx, KK_EINTERNAL, "text detection failed (OpenCV)");
    }
}

extern "C" kk_status kk_detect__ocr_image(kk_ctx *ctx, const uint8_t *gray, int width, int height,
                                          const kk_detect_line *line, int target_h,
                                          uint8_t **out, int *ow, int *oh, double *scale,
                                          int *ox, int *oy, int *border)
{
    *out = NULL;
    if (!gray || width <= 0 || height <= 0 || !line || target_h <= 0)
        return kk__fail(ctx, KK_EINVAL, "text detection: bad OCR crop request");
    try {
        cv::Mat g(height, width, CV_8U, const_cast<uint8_t *>(gray));
        int m = std::max(2, line->glyph_h / 4);
        int xa = std::max(0, line->x - m), xb = std::min(width, line->x + line->w + m);
        int ya = std::max(0, line->y - m), yb = std::min(height, line->y + line->h + m);
        if (xb <= xa || yb <= ya)
            return kk__fail(ctx, KK_EINVAL, "text detection: empty OCR crop");
        cv::Mat crop = g(cv::Rect(xa, ya, xb - xa, yb - ya));
        double s = (double)target_h / std::max(1, line->glyph_h);
        s = std::min(8.0, std::max(1.0, s));
        /* keep Tesseract's input bounded whatever the line's length */
        if ((xb - xa) * s > 4000)
            s = std::max(1.0, 4000.0 / (xb - xa));
        cv::Mat big;
        cv::resize(crop, big, cv::Size(), s, s, s > 1.0 ? cv::INTER_CUBIC : cv::INTER_AREA);
        /* black text on white: threshold midway between text and background */
        int thr = (line->text_level + line->bg_level) / 2;
        cv::Mat bin;
        if (line->polarity > 0)
            cv::threshold(big, bin, thr, 255, cv::THRESH_BINARY_INV);
        else
            cv::threshold(big, bin, thr, 255, cv::THRESH_BINARY);
        int b = 10;
        cv::Mat framed;
        cv::copyMakeBorder(bin, framed, b, b, b, b, cv::BORDER_CONSTANT, cv::Scalar(255));
        size_t bytes = (size_t)framed.cols * framed.rows;
        uint8_t *buf = (uint8_t *)kk__malloc(bytes);
        if (!buf)
            return kk__fail(ctx, KK_ENOMEM, "out of memory");
        for (int y = 0; y < framed.rows; y++)
            std::memcpy(buf + (size_t)y * framed.cols, framed.ptr<uint8_t>(y), framed.cols);
        *out = buf;
        *ow = framed.cols;
        *oh = framed.rows;
        *scale = s;
        *ox = xa;
        *oy = ya;
        *border = b;
        return KK_OK;
    } catch (const std::bad_alloc &) {
        return kk__fail(ctx, KK_ENOMEM, "out of memory");
    } catch (...) {
        return kk__fail(ctx, KK_EINTERNAL, "text detection failed (OpenCV)");
    }
}
