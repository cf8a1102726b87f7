/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/volume/volume.h - a series as a volume in patient coordinates, and
 * defacing: does a head volume show a face, and remove it and the ears
 * (R20, PS3.15 Clean Recognizable Visual Features).
 *
 * Pure C over arrays: no DICOM, no codecs. lib/deid/deface.c reads the
 * headers, has the pixel module decode the slices, fills a kk_volume and
 * writes back what kk_vol__deface() changed.
 *
 * Coordinates are DICOM patient coordinates (LPS: +x left, +y posterior,
 * +z superior), in mm. Voxel (c, r, k): column c, row r of sorted slice k
 * sits at origin + c*dc*row + r*dr*col + k*dz*normal, where row and col
 * are the two unit vectors of ImageOrientationPatient and normal is
 * row x col. The face is found from the head mask's geometry: the
 * anterior profile of its midline (most anterior point at each height),
 * the vertex, the nose tip and the nasion, never from the header's words.
 * Not a public API.
 */
#ifndef KK_VOLUME_H
#define KK_VOLUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** One volume: nz slices of ny rows of nx columns, values in physical
 *  units (CT: Hounsfield units; MR: stored values times slope). */
typedef struct kk_volume {
    int nx, ny, nz;
    float *v;                 /* nz*ny*nx, slice by slice, row by row */
    double origin[3];         /* ImagePositionPatient of slice 0 */
    double row[3], col[3], normal[3];
    double dc, dr, dz;        /* mm between columns, rows, slices */
    bool ct;                  /* values are HU */
} kk_volume;

/**
 * Order slices along the normal of their orientation (row x col).
 * @param ipp     n positions (ImagePositionPatient)
 * @param order   n out: order[k] is the input index of sorted slice k
 * @param dz      out: the mean distance between neighbours (mm)
 * @return 0; -1 when n < 2, two slices share a position, or the spacing
 *         varies by more than 10% of its mean (a gap, a localizer mixed in)
 */
int kk_vol__order(const double (*ipp)[3], size_t n, const double row[3], const double col[3],
                  size_t *order, double *dz);

/** What kk_vol__find_face() saw. Heights are patient z in mm. */
typedef struct kk_vol_face {
    bool head;        /* the mask has the size and shape of a head */
    bool face;        /* and its front shows a face: nose, nasion, brow */
    double top;       /* vertex (highest point of the mask) */
    double width, depth; /* LR and AP extent of the cranium (mm) */
    double nose_z, nose_y;     /* nose tip: height and AP position */
    double nasion_z, nasion_y; /* the dip between brow and nose */
    double centre_x;  /* the head's LR midline */
    /* the cut: voxels P with dot(P - point, normal) > 0 and z above
     * floor_z are the face */
    double point[3], normal[3], floor_z;
    double knee_z;    /* below it, the cut is the plane's vertical there */
    char why[96];     /* in words, when head or face is false */
} kk_vol_face;

/**
 * Whether the volume is too low (in patient z) to hold the cranium and
 * face kk_vol__find_face() looks for: less than 48 mm from its lowest to
 * its highest voxel centre. Needs the geometry only (vol->v may be NULL),
 * so a caller can skip reading the voxels of a slab.
 */
bool kk_vol__too_low_for_a_head(const kk_volume *vol);

/**
 * The coarse look kk_vol__find_face() starts with, for a caller that can
 * build the coarse volume slice by slice without holding the full one
 * (lib/deid/deface.c: a chest is rejected without its full-size volume).
 * Whether slices of this size get it (384 x 384 or more); the floats of
 * one coarse slice; one slice (nx*ny floats) averaged into one coarse
 * slice (the same floats find_face makes); and the judgement on a whole
 * coarse volume (nz coarse slices, in volume order; vol->v is not read):
 * 1 clearly no head (face says why, as find_face would), 0 look in full,
 * -1 out of memory.
 */
bool kk_vol__coarse_applies(const kk_volume *vol);
size_t kk_vol__coarse_plane(const kk_volume *vol);
void kk_vol__coarse_slice(const kk_volume *vol, const float *slice, float *out);
int kk_vol__coarse_reject(const kk_volume *vol, const float *coarse, kk_vol_face *face);

/**
 * Threshold the volume into a head mask (CT: above -500 HU; MR: Otsu on
 * the volume's histogram, halved to tolerate bias), fill its holes slice
 * by slice, keep the largest connected part, and decide head and face.
 * A volume too low for a head (kk_vol__too_low_for_a_head) is rejected
 * first; slices of 384 x 384 or more are then looked at in 4 x 4 averaged
 * voxels, and a body clearly wider or narrower than a head is rejected
 * there (in both cases the mask is all 0).
 * @param mask  out, nx*ny*nz bytes, 1 inside the head (may be NULL)
 * @return 0; -1 when memory runs out
 */
int kk_vol__find_face(const kk_volume *vol, kk_vol_face *face, uint8_t *mask);

typedef enum kk_deface_mode {
    KK_DEFACE_OFF = 0,
    KK_DEFACE_REMOVE, /* the face region becomes air / background */
    KK_DEFACE_BLUR    /* the face region is smoothed beyond recognition */
} kk_deface_mode;

/* What kk_vol__find_ears() says of a voxel */
enum {
    KK_EAR = 1,     /* ear tissue: out of the opening */
    KK_EAR_AIR = 2, /* the air around it */
    KK_EAR_FLAT = 3 /* the skin it lies on, within the opening: flattened */
};

/**
 * Find the ears of a head with a face (lib/volume/ears.c). The flaps are
 * the head mask (its holes filled in sagittal planes too) minus its
 * opening with a 12 mm ball, at least 5 mm out of the opening and at most
 * 8 mm from the background, between 25 mm above the nasion and 30 mm
 * below the nose tip, in the outer 25 mm of the cranium's width on either
 * side, in connected parts no more than 80 mm long or high. Within 15 mm
 * of a flap, in that band
 * and at most 8 mm from the background (the brain lies deeper), the head
 * out of the opening shrunk by 3 mm is ear (the flaps, their roots, the
 * concha's walls), the air air, and what the shrunk opening covers is to
 * be flattened (a smooth side of the head).
 * @param face     kk_vol__find_face()'s landmarks (nothing when !face->face)
 * @param mask     the head mask kk_vol__find_face() made
 * @param ears     out, nx*ny*nz bytes: KK_EAR, KK_EAR_AIR, KK_EAR_FLAT, 0
 * @return how many KK_EAR voxels; -1 when memory runs out
 */
long kk_vol__find_ears(const kk_volume *vol, const kk_vol_face *face, const uint8_t *mask,
                       uint8_t *ears);

/**
 * Change the voxels of the face region of vol (kk_vol__find_face() said
 * face) and of its ears (kk_vol__find_ears()): REMOVE sets them to
 * background (CT -1000 HU; MR the volume's lowest value), and the 4 mm of
 * head behind the cut and the skin under the ears to the head's median
 * value (smooth surfaces); BLUR replaces all of them and the air around
 * the ears by a 3-D box mean of radius 25 mm, three times over (narrower
 * blurs leave a face that detectors find in surface renders).
 * @param mask     the head mask kk_vol__find_face() made
 * @param changed  out (nx*ny*nz bytes, may be NULL): 1 where a value changed
 * @return how many voxels changed; (size_t)-1 when memory runs out
 */
size_t kk_vol__deface(kk_volume *vol, const kk_vol_face *face, kk_deface_mode mode,
                      const uint8_t *mask, uint8_t *changed);

/**
 * Render the skin surface of a mask as seen from the front of the patient
 * (from anterior, looking posterior, patient's right on the image's left,
 * head up), depth-shaded: 8-bit gray, w by h pixels of px mm, centred on
 * the mask. Background 0.
 */
void kk_vol__render_front(const kk_volume *vol, const uint8_t *mask, int w, int h, double px,
                          uint8_t *out);

#ifdef __cplusplus
}
#endif
#endif /* KK_VOLUME_H */
