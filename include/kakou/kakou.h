/* SPDX-License-Identifier: Apache-2.0 */
/*
 * include/kakou/kakou.h - the whole public API of libkakou.
 * Anything not declared under include/kakou/ is not a published API.
 */
#ifndef KAKOU_KAKOU_H
#define KAKOU_KAKOU_H

#include "batch.h"
#include "common.h"
#include "deid.h"
#include "gateway.h"
#include "key.h"
#include "pack.h"
#include "profile.h"
#include "release.h"
#include "sign.h"
#include "store.h"
#include "verify.h"
#include "version.h"

#endif /* KAKOU_KAKOU_H */
