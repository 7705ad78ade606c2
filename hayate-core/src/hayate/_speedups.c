/* hayate._speedups: the per-level work of the market-data path, in C.
 *
 * Optional. hayate.book.accel loads it when it was built (pip builds it with the
 * machine's C compiler; without one the package installs without it) and
 * HAYATE_PURE_PYTHON is not set; otherwise the pure-Python twins in hayate.book.accel
 * run. Both give identical results, and the C functions only ever take the common,
 * well-formed case: anything else (an escape, an exponent, a sign, a number off the
 * grid or past 18 digits, a level that is not two strings...) makes them return None
 * with nothing changed, and the caller takes the strict Python path, which decides and
 * explains. So the C code never needs to reproduce an error message.
 *
 *   parse_levels(raw, pdec, qdec)              -> [(price, size), ...] | None
 *   apply_delta(raw_bids, raw_asks, bids, asks, best_bid, best_ask, pdec, qdec)
 *                                              -> (bid side, ask side) | None, each side
 *                                                 ([(price, size), ...], best, moved, gone)
 *   apply_pairs(side, pairs, best, is_bid)     -> (best, moved, gone) | None
 *   book_apply_raw(book, raw_bids, raw_asks, pdec, qdec) -> (bid levels, ask levels) | None
 *   book_apply_pairs(book, bid_levels, ask_levels)       -> True | None
 *   book_delta_frame(book_args, frame, next_u, recv_ns, trades)
 *                          -> delta event | [trade event, ...] | other topic | None
 *   trade_frame(frame, trades, recv_ns)  -> [trade event, ...] | other topic | None
 *
 * The book_* functions work on an OrderBook itself (its bids/asks dicts, best prices and
 * sorted indexes, by attribute), finding the next best price after the best level went
 * as OrderBook does; the others work on one side and leave that to the caller.
 *
 * ``raw`` is the JSON text of a level array (a msgspec.Raw, bytes or memoryview):
 * [["64999.5","0.123"],...]. ``side``, ``bids``, ``asks`` are the sides of an OrderBook
 * (price -> size, ints). A delta's two sides are both read and checked before either is
 * applied, so a None answer leaves the book as it was.
 * Units are the integer counts of 10**-decimals of each number. A size of 0 deletes the
 * level. ``moved``: a level came or went; ``gone``: the best level was deleted (the
 * caller then finds the next best, as OrderBook does).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MAX_NUMBER_CHARS 48   /* hayate.numbers.MAX_NUMBER_CHARS */
#define MAX_DIGITS 18         /* fits int64 whatever the digits */
#define MS_MIN 1420070400000LL /* hayate.numbers.MS_MIN: 2015-01-01 in ms */
#define MS_MAX 4102444800000LL /* hayate.numbers.MS_MAX: 2100-01-01 in ms */
#define MAX_ID_CHARS 64        /* hayate.numbers.MAX_ID_CHARS */

static const int64_t POW10[19] = {
    1LL, 10LL, 100LL, 1000LL, 10000LL, 100000LL, 1000000LL, 10000000LL, 100000000LL,
    1000000000LL, 10000000000LL, 100000000000LL, 1000000000000LL, 10000000000000LL,
    100000000000000LL, 1000000000000000LL, 10000000000000000LL, 100000000000000000LL,
    1000000000000000000LL};

typedef struct {
    const char *p;
    const char *end;
} Cursor;

static inline void skip_ws(Cursor *c) {
    /* Venues send compact JSON: the common case is no blank at all. */
    if (c->p < c->end && (unsigned char)*c->p > ' ')
        return;
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static inline int expect(Cursor *c, char ch) {
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* One quoted decimal number -> units with ``decimals`` places, ``minimum`` or more.
 * 1 on success; 0 when the text is anything but the plain case (the caller bails).
 * One pass: digits are accumulated as they are checked. */
static int read_number(Cursor *c, int decimals, int64_t minimum, int64_t *out) {
    skip_ws(c);
    const char *p = c->p, *end = c->end;
    if (p >= end || *p != '"')
        return 0;
    const char *s = ++p;
    /* The whole part: leading zeros do not count towards the digit budget. */
    while (p < end && *p == '0' && p + 1 < end && p[1] >= '0' && p[1] <= '9')
        p++;
    const char *w = p;
    int64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        v = v * 10 + (*p - '0');
        p++;
        if (p - w > MAX_DIGITS)
            return 0;
    }
    if (p == s)
        return 0; /* ".5", "", a sign, a blank... */
    Py_ssize_t nwhole = p - w;
    Py_ssize_t nfrac = 0;
    if (p < end && *p == '.') {
        const char *frac = ++p;
        int64_t f = 0;
        Py_ssize_t kept = 0, zeros = 0; /* zeros: trailing zeros not yet counted */
        while (p < end && *p >= '0' && *p <= '9') {
            if (*p == '0') {
                zeros++;
            } else {
                kept += zeros + 1;
                if (kept > decimals)
                    return 0; /* off the grid: the strict path refuses it */
                for (; zeros > 0; zeros--)
                    f *= 10;
                f = f * 10 + (*p - '0');
            }
            p++;
            if (p - s > MAX_NUMBER_CHARS)
                return 0;
        }
        if (p == frac)
            return 0; /* "1." */
        /* Trailing zeros within our precision count; beyond it they are tolerated
         * ("1.500000" with 1 decimal). */
        Py_ssize_t extra = decimals - kept < zeros ? decimals - kept : zeros;
        for (Py_ssize_t i = 0; i < extra; i++)
            f *= 10;
        nfrac = kept + extra;
        if (nwhole + decimals > MAX_DIGITS)
            return 0;
        v = v * POW10[nfrac] + f;
    } else if (nwhole + decimals > MAX_DIGITS) {
        return 0;
    }
    if (p >= end || *p != '"')
        return 0; /* an exponent, a second dot, an escape, a blank, the end... */
    if (p - s > MAX_NUMBER_CHARS)
        return 0;
    v *= POW10[decimals - nfrac];
    if (v < minimum)
        return 0;
    c->p = p + 1;
    *out = v;
    return 1;
}

/* The level array at the cursor -> a C array of (price, size) units; the cursor ends just
 * past the closing bracket. Returns the number of levels, or -1 when it is not the plain
 * case (nothing to free then). */
static Py_ssize_t read_levels_at(Cursor *c, int pdec, int qdec, int64_t **out) {
    *out = NULL;
    if (pdec < 0 || pdec > MAX_DIGITS || qdec < 0 || qdec > MAX_DIGITS)
        return -1;
    if (!expect(c, '['))
        return -1;
    Py_ssize_t cap = 16, count = 0;
    int64_t *lv = PyMem_Malloc(sizeof(int64_t) * 2 * cap);
    if (lv == NULL)
        return -1;
    skip_ws(c);
    if (c->p < c->end && *c->p == ']') {
        c->p++;
    } else {
        for (;;) {
            int64_t price, size;
            if (!expect(c, '[') || !read_number(c, pdec, 1, &price) || !expect(c, ',') ||
                !read_number(c, qdec, 0, &size) || !expect(c, ']'))
                goto bail;
            if (count == cap) {
                cap *= 2;
                int64_t *grown = PyMem_Realloc(lv, sizeof(int64_t) * 2 * cap);
                if (grown == NULL)
                    goto bail;
                lv = grown;
            }
            lv[2 * count] = price;
            lv[2 * count + 1] = size;
            count++;
            skip_ws(c);
            if (c->p < c->end && *c->p == ',') {
                c->p++;
                continue;
            }
            if (c->p < c->end && *c->p == ']') {
                c->p++;
                break;
            }
            goto bail;
        }
    }
    *out = lv;
    return count;
bail:
    PyMem_Free(lv);
    return -1;
}

/* The level array ``raw`` (nothing but the array and blanks) -> a C array of (price,
 * size) units. Returns the number of levels, or -1 when it is not the plain case. */
static Py_ssize_t read_levels(const char *buf, Py_ssize_t n, int pdec, int qdec,
                              int64_t **out) {
    Cursor c = {buf, buf + n};
    Py_ssize_t count = read_levels_at(&c, pdec, qdec, out);
    if (count < 0)
        return -1;
    skip_ws(&c);
    if (c.p != c.end) {
        PyMem_Free(*out);
        *out = NULL;
        return -1;
    }
    return count;
}

static PyObject *pair(int64_t a, int64_t b) {
    PyObject *pa = PyLong_FromLongLong(a);
    if (pa == NULL)
        return NULL;
    PyObject *pb = PyLong_FromLongLong(b);
    if (pb == NULL) {
        Py_DECREF(pa);
        return NULL;
    }
    PyObject *t = PyTuple_New(2);
    if (t == NULL) {
        Py_DECREF(pa);
        Py_DECREF(pb);
        return NULL;
    }
    PyTuple_SET_ITEM(t, 0, pa);
    PyTuple_SET_ITEM(t, 1, pb);
    return t;
}

static PyObject *parse_levels(PyObject *self, PyObject *args) {
    Py_buffer view;
    int pdec, qdec;
    if (!PyArg_ParseTuple(args, "y*ii", &view, &pdec, &qdec))
        return NULL;
    int64_t *lv;
    Py_ssize_t n = read_levels(view.buf, view.len, pdec, qdec, &lv);
    PyBuffer_Release(&view);
    if (n < 0)
        Py_RETURN_NONE;
    PyObject *out = PyList_New(n);
    if (out == NULL)
        goto fail;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = pair(lv[2 * i], lv[2 * i + 1]);
        if (t == NULL)
            goto fail;
        PyList_SET_ITEM(out, i, t);
    }
    PyMem_Free(lv);
    return out;
fail:
    PyMem_Free(lv);
    Py_XDECREF(out);
    return NULL;
}

/* Apply one level to ``side`` with OrderBook.apply_delta's rules: ``best`` is the running
 * best of this update (it only moves to better prices as levels come; ``gone`` says the
 * level at it was deleted). ``key``/``value`` are borrowed. Returns 0, or -1 (error set). */
static int apply_one(PyObject *side, PyObject *key, int64_t price, int64_t size,
                     PyObject *value, int is_bid, int *has_best, int64_t *best, int *moved,
                     int *gone) {
    if (size) {
        /* One lookup: the dict grows exactly when the level is new. */
        Py_ssize_t before = PyDict_GET_SIZE(side);
        if (PyDict_SetItem(side, key, value) < 0)
            return -1;
        if (PyDict_GET_SIZE(side) != before) {
            *moved = 1;
            if (!*has_best || (is_bid ? price > *best : price < *best)) {
                *best = price;
                *has_best = 1;
            }
        }
        return 0;
    }
    int present = PyDict_Contains(side, key);
    if (present < 0)
        return -1;
    if (present) {
        if (PyDict_DelItem(side, key) < 0)
            return -1;
        *moved = 1;
        if (*has_best && price == *best)
            *gone = 1;
    }
    return 0;
}

static PyObject *best_object(int has_best, int64_t best) {
    if (!has_best)
        Py_RETURN_NONE;
    return PyLong_FromLongLong(best);
}

static int read_best(PyObject *obj, int *has_best, int64_t *best) {
    if (obj == Py_None) {
        *has_best = 0;
        *best = 0;
        return 1;
    }
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (overflow)
        return 0; /* a best price past int64: the Python path */
    *has_best = 1;
    *best = v;
    return 1;
}

/* Apply parsed levels to one side; returns a new (levels, best, moved, gone) tuple. */
static PyObject *apply_side(PyObject *side, const int64_t *lv, Py_ssize_t n, int has_best,
                            int64_t best, int is_bid) {
    PyObject *levels = PyList_New(n);
    if (levels == NULL)
        return NULL;
    int moved = 0, gone = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t price = lv[2 * i], size = lv[2 * i + 1];
        PyObject *t = pair(price, size);
        if (t == NULL)
            goto fail;
        PyList_SET_ITEM(levels, i, t);
        if (apply_one(side, PyTuple_GET_ITEM(t, 0), price, size, PyTuple_GET_ITEM(t, 1),
                      is_bid, &has_best, &best, &moved, &gone) < 0)
            goto fail;
    }
    PyObject *b = best_object(has_best, best);
    if (b == NULL)
        goto fail;
    return Py_BuildValue("(NNOO)", levels, b, moved ? Py_True : Py_False,
                         gone ? Py_True : Py_False);
fail:
    Py_DECREF(levels);
    return NULL;
}

static PyObject *apply_delta(PyObject *self, PyObject *args) {
    Py_buffer vb, va;
    PyObject *bids, *asks, *bb_obj, *ba_obj;
    int pdec, qdec;
    if (!PyArg_ParseTuple(args, "y*y*O!O!OOii", &vb, &va, &PyDict_Type, &bids, &PyDict_Type,
                          &asks, &bb_obj, &ba_obj, &pdec, &qdec))
        return NULL;
    PyObject *result = NULL;
    int64_t *lb = NULL, *la = NULL;
    int has_bb, has_ba;
    int64_t bb, ba;
    int ok1 = read_best(bb_obj, &has_bb, &bb);
    int ok2 = ok1 < 0 ? -1 : read_best(ba_obj, &has_ba, &ba);
    if (ok1 < 0 || ok2 < 0)
        goto done; /* error set */
    /* Both sides are read and checked before either is applied. */
    Py_ssize_t nb = (ok1 && ok2) ? read_levels(vb.buf, vb.len, pdec, qdec, &lb) : -1;
    Py_ssize_t na = nb >= 0 ? read_levels(va.buf, va.len, pdec, qdec, &la) : -1;
    if (nb < 0 || na < 0) {
        Py_INCREF(Py_None);
        result = Py_None;
        goto done;
    }
    PyObject *sb = apply_side(bids, lb, nb, has_bb, bb, 1);
    if (sb == NULL)
        goto done;
    PyObject *sa = apply_side(asks, la, na, has_ba, ba, 0);
    if (sa == NULL) {
        Py_DECREF(sb);
        goto done;
    }
    result = PyTuple_Pack(2, sb, sa);
    Py_DECREF(sb);
    Py_DECREF(sa);
done:
    PyMem_Free(lb);
    PyMem_Free(la);
    PyBuffer_Release(&vb);
    PyBuffer_Release(&va);
    return result;
}

static PyObject *apply_pairs(PyObject *self, PyObject *args) {
    PyObject *side, *pairs, *best_obj;
    int is_bid;
    if (!PyArg_ParseTuple(args, "O!OOp", &PyDict_Type, &side, &pairs, &best_obj, &is_bid))
        return NULL;
    int has_best;
    int64_t best;
    int ok = read_best(best_obj, &has_best, &best);
    if (ok < 0)
        return NULL;
    if (ok == 0)
        Py_RETURN_NONE; /* past 64 bits: the Python path */
    /* Check every level first, so that a None answer leaves the side unchanged. */
    PyObject *seq = PySequence_Fast(pairs, "levels must be a sequence of (price, size)");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = items[i];
        if (!PyTuple_CheckExact(t) || PyTuple_GET_SIZE(t) != 2 ||
            !PyLong_CheckExact(PyTuple_GET_ITEM(t, 0)) ||
            !PyLong_CheckExact(PyTuple_GET_ITEM(t, 1))) {
            Py_DECREF(seq);
            Py_RETURN_NONE; /* not (int, int) tuples: the Python path */
        }
        int of = 0;
        PyLong_AsLongLongAndOverflow(PyTuple_GET_ITEM(t, 0), &of);
        if (!of)
            PyLong_AsLongLongAndOverflow(PyTuple_GET_ITEM(t, 1), &of);
        if (of) {
            Py_DECREF(seq);
            Py_RETURN_NONE; /* past 64 bits: the Python path */
        }
    }
    int moved = 0, gone = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = items[i];
        PyObject *key = PyTuple_GET_ITEM(t, 0), *value = PyTuple_GET_ITEM(t, 1);
        long long price = PyLong_AsLongLong(key);
        long long size = PyLong_AsLongLong(value);
        if (apply_one(side, key, price, size, value, is_bid, &has_best, &best, &moved,
                      &gone) < 0)
            goto fail;
    }
    Py_DECREF(seq);
    PyObject *b = best_object(has_best, best);
    if (b == NULL)
        return NULL;
    return Py_BuildValue("(NOO)", b, moved ? Py_True : Py_False, gone ? Py_True : Py_False);
fail:
    Py_DECREF(seq);
    return NULL;
}

/* -- whole-book entry points: the OrderBook's own fields are read and updated here ----- */

#define SCAN 48 /* hayate.book.book._SCAN: unit steps tried before scanning the side */

static PyObject *S_bids, *S_asks, *S_bb, *S_ba, *S_bsorted, *S_asorted, *S_update_id;

/* The best price of ``side`` after the level at ``gone`` went (OrderBook._next_bid/_ask):
 * step one unit at a time, then scan. Returns a new reference (None when empty). */
static PyObject *next_best(PyObject *side, int64_t gone, int is_bid) {
    if (PyDict_GET_SIZE(side) == 0)
        Py_RETURN_NONE;
    int64_t p = gone;
    for (int i = 0; i < SCAN; i++) {
        p = is_bid ? p - 1 : p + 1;
        PyObject *key = PyLong_FromLongLong(p);
        if (key == NULL)
            return NULL;
        int present = PyDict_Contains(side, key);
        if (present) {
            if (present < 0) {
                Py_DECREF(key);
                return NULL;
            }
            return key;
        }
        Py_DECREF(key);
    }
    PyObject *k, *v, *best = NULL;
    Py_ssize_t pos = 0;
    while (PyDict_Next(side, &pos, &k, &v)) {
        if (best == NULL) {
            best = k;
            continue;
        }
        int better = PyObject_RichCompareBool(k, best, is_bid ? Py_GT : Py_LT);
        if (better < 0)
            return NULL;
        if (better)
            best = k;
    }
    Py_XINCREF(best);
    return best;
}

/* After one side's update: set its best and drop its sorted index when levels came or
 * went (the rules of OrderBook.apply_delta). 0 or -1. */
static int finish_side(PyObject *book, PyObject *side, PyObject *best_name,
                       PyObject *sorted_name, int has_best, int64_t best, int moved, int gone,
                       int is_bid) {
    if (!moved)
        return 0;
    if (PyObject_SetAttr(book, sorted_name, Py_None) < 0)
        return -1;
    PyObject *b;
    if (!has_best) {
        b = Py_None;
        Py_INCREF(b);
    } else {
        b = PyLong_FromLongLong(best);
        if (b == NULL)
            return -1;
        if (gone) {
            int present = PyDict_Contains(side, b);
            if (present < 0) {
                Py_DECREF(b);
                return -1;
            }
            if (!present) {
                Py_DECREF(b);
                b = next_best(side, best, is_bid);
                if (b == NULL)
                    return -1;
            }
        }
    }
    int rc = PyObject_SetAttr(book, best_name, b);
    Py_DECREF(b);
    return rc;
}

/* An OrderBook's fields as the book_* entry points use them. */
typedef struct {
    PyObject *bids, *asks; /* the sides (dicts), new references */
    int has_bb, has_ba;
    int64_t bb, ba; /* the best prices, when has_bb / has_ba */
} BookFields;

/* Fetch book.bids/asks (dicts) and book._bb/_ba (int or None) into *f. 1 ok; 0 not the
 * plain case, with *declined set to a new None (the entry point's answer); -1 error.
 * f->bids and f->asks are new references when 1, NULL otherwise (the caller's cleanup
 * releases them with Py_XDECREF either way). */
static int book_fields_of(PyObject *book, PyObject **bids, PyObject **asks, int *has_bb,
                          int64_t *bb, int *has_ba, int64_t *ba) {
    *asks = NULL;
    *bids = PyObject_GetAttr(book, S_bids);
    if (*bids == NULL)
        return -1;
    *asks = PyObject_GetAttr(book, S_asks);
    if (*asks == NULL) {
        Py_CLEAR(*bids);
        return -1;
    }
    if (!PyDict_CheckExact(*bids) || !PyDict_CheckExact(*asks))
        goto plain_no;
    PyObject *o = PyObject_GetAttr(book, S_bb);
    if (o == NULL)
        goto error;
    int ok = read_best(o, has_bb, bb);
    Py_DECREF(o);
    if (ok <= 0) {
        if (ok < 0)
            goto error;
        goto plain_no;
    }
    o = PyObject_GetAttr(book, S_ba);
    if (o == NULL)
        goto error;
    ok = read_best(o, has_ba, ba);
    Py_DECREF(o);
    if (ok <= 0) {
        if (ok < 0)
            goto error;
        goto plain_no;
    }
    return 1;
plain_no:
    Py_CLEAR(*bids);
    Py_CLEAR(*asks);
    return 0;
error:
    Py_CLEAR(*bids);
    Py_CLEAR(*asks);
    return -1;
}

static int book_fields(PyObject *book, BookFields *f, PyObject **declined) {
    int ok = book_fields_of(book, &f->bids, &f->asks, &f->has_bb, &f->bb, &f->has_ba, &f->ba);
    if (ok == 0)
        *declined = Py_NewRef(Py_None);
    return ok;
}

/* Apply parsed levels (units) to one side of the book, and finish the side as
 * OrderBook.apply_delta does. Returns the new list of (price, size) tuples, or NULL. */
static PyObject *apply_book_side(PyObject *book, PyObject *side, const int64_t *lv,
                                 Py_ssize_t n, int has_best, int64_t best, int is_bid) {
    int moved = 0, gone = 0;
    PyObject *levels = PyList_New(n);
    if (levels == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = pair(lv[2 * i], lv[2 * i + 1]);
        if (t == NULL)
            goto fail;
        PyList_SET_ITEM(levels, i, t);
        if (apply_one(side, PyTuple_GET_ITEM(t, 0), lv[2 * i], lv[2 * i + 1],
                      PyTuple_GET_ITEM(t, 1), is_bid, &has_best, &best, &moved, &gone) < 0)
            goto fail;
    }
    if (finish_side(book, side, is_bid ? S_bb : S_ba, is_bid ? S_bsorted : S_asorted,
                    has_best, best, moved, gone, is_bid) < 0)
        goto fail;
    return levels;
fail:
    Py_DECREF(levels);
    return NULL;
}

/* Apply parsed bids, then asks, to the book of ``f``: the two new level lists in *bl and
 * *al. 0, or -1 (error set; nothing to release). */
static int apply_parsed(PyObject *book, const BookFields *f, const int64_t *lb, Py_ssize_t nb,
                        const int64_t *la, Py_ssize_t na, PyObject **bl, PyObject **al) {
    *al = NULL;
    *bl = apply_book_side(book, f->bids, lb, nb, f->has_bb, f->bb, 1);
    if (*bl == NULL)
        return -1;
    *al = apply_book_side(book, f->asks, la, na, f->has_ba, f->ba, 0);
    if (*al == NULL) {
        Py_CLEAR(*bl);
        return -1;
    }
    return 0;
}

/* book_apply_raw(book, raw_bids, raw_asks, pdec, qdec) -> (bid levels, ask levels) | None */
static PyObject *book_apply_raw(PyObject *self, PyObject *args) {
    PyObject *book;
    Py_buffer vb, va;
    int pdec, qdec;
    if (!PyArg_ParseTuple(args, "Oy*y*ii", &book, &vb, &va, &pdec, &qdec))
        return NULL;
    PyObject *result = NULL, *bl = NULL, *al = NULL;
    int64_t *lb = NULL, *la = NULL;
    BookFields f = {NULL, NULL, 0, 0, 0, 0};
    if (book_fields(book, &f, &result) <= 0)
        goto done;
    Py_ssize_t nb = read_levels(vb.buf, vb.len, pdec, qdec, &lb);
    Py_ssize_t na = nb >= 0 ? read_levels(va.buf, va.len, pdec, qdec, &la) : -1;
    if (nb < 0 || na < 0) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    if (apply_parsed(book, &f, lb, nb, la, na, &bl, &al) == 0)
        result = PyTuple_Pack(2, bl, al);
done:
    Py_XDECREF(bl);
    Py_XDECREF(al);
    Py_XDECREF(f.bids);
    Py_XDECREF(f.asks);
    PyMem_Free(lb);
    PyMem_Free(la);
    PyBuffer_Release(&vb);
    PyBuffer_Release(&va);
    return result;
}

/* The text of a str (ASCII only) or a bytes-like object; 1 ok, 0 not the plain case,
 * -1 error. ``view->obj`` is set when a buffer must be released. */
static int frame_text(PyObject *frame, Py_buffer *view, const char **buf, Py_ssize_t *len) {
    view->obj = NULL;
    if (PyUnicode_Check(frame)) {
        if (!PyUnicode_IS_ASCII(frame))
            return 0; /* non-ASCII text: msgspec decides */
        *buf = (const char *)PyUnicode_DATA(frame);
        *len = PyUnicode_GET_LENGTH(frame);
        return 1;
    }
    if (PyObject_GetBuffer(frame, view, PyBUF_SIMPLE) < 0)
        return -1;
    *buf = view->buf;
    *len = view->len;
    return 1;
}

/* -- a whole book delta frame ------------------------------------------------------------ */

/* A JSON string of printable ASCII without escapes at the cursor (the only kind taken
 * here): its text in *s / *n, the cursor past the closing quote. 1, or 0 otherwise. */
static int read_plain_string(Cursor *c, const char **s, Py_ssize_t *n) {
    skip_ws(c);
    if (c->p >= c->end || *c->p != '"')
        return 0;
    const char *start = ++c->p;
    while (c->p < c->end) {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '"') {
            *s = start;
            *n = c->p - start;
            c->p++;
            return 1;
        }
        if (ch == '\\' || ch < 0x20 || ch > 0x7e)
            return 0; /* an escape, a control character, non-ASCII: msgspec decides */
        c->p++;
    }
    return 0;
}

/* A JSON integer of 1 to 18 digits, without sign or leading zero. 1, or 0 otherwise. */
static int read_plain_int(Cursor *c, int64_t *out) {
    skip_ws(c);
    const char *s = c->p;
    int64_t v = 0;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        v = v * 10 + (*c->p - '0');
        c->p++;
        if (c->p - s > MAX_DIGITS)
            return 0;
    }
    Py_ssize_t n = c->p - s;
    if (n == 0 || (n > 1 && *s == '0'))
        return 0;
    if (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E'))
        return 0; /* a fraction or an exponent: msgspec decides */
    *out = v;
    return 1;
}

static inline int key_is(const char *k, Py_ssize_t n, const char *name) {
    return (Py_ssize_t)strlen(name) == n && memcmp(k, name, n) == 0;
}

/* After a member: 1 at ',' (another follows), 2 at '}' (the object ends), 0 otherwise. */
static int member_end(Cursor *c) {
    skip_ws(c);
    if (c->p < c->end) {
        if (*c->p == ',') {
            c->p++;
            return 1;
        }
        if (*c->p == '}') {
            c->p++;
            return 2;
        }
    }
    return 0;
}

typedef struct {
    int64_t u, seq;
    int64_t *lb, *la;
    Py_ssize_t nb, na;
} DeltaFrame;

/* The ``data`` object of a book message: s, b, a, u and seq (optional, 0), each once and
 * nothing else. 1, or 0 (not the plain case; the caller frees what was read). */
static int read_delta_data(Cursor *c, int pdec, int qdec, DeltaFrame *f) {
    int have_s = 0, have_u = 0, have_seq = 0;
    if (!expect(c, '{'))
        return 0;
    for (;;) {
        const char *k, *v;
        Py_ssize_t kn, vn;
        if (!read_plain_string(c, &k, &kn) || !expect(c, ':'))
            return 0;
        if (kn != 1 && !key_is(k, kn, "seq"))
            return 0;
        if (kn == 3) {
            if (have_seq++ || !read_plain_int(c, &f->seq))
                return 0;
        } else if (*k == 's') {
            if (have_s++ || !read_plain_string(c, &v, &vn))
                return 0;
        } else if (*k == 'u') {
            if (have_u++ || !read_plain_int(c, &f->u))
                return 0;
        } else if (*k == 'b') {
            if (f->lb != NULL || (f->nb = read_levels_at(c, pdec, qdec, &f->lb)) < 0)
                return 0;
        } else if (*k == 'a') {
            if (f->la != NULL || (f->na = read_levels_at(c, pdec, qdec, &f->la)) < 0)
                return 0;
        } else {
            return 0;
        }
        int end = member_end(c);
        if (end == 0)
            return 0;
        if (end == 2)
            break;
    }
    return have_s && have_u && f->lb != NULL && f->la != NULL;
}

/* What a frame's envelope carries besides its data. */
typedef struct {
    const char *type;
    Py_ssize_t type_len;
    int64_t ts, cts; /* cts: 0 when absent */
    const char *other; /* set (with other_len) when the frame is of another topic */
    Py_ssize_t other_len;
} Envelope;

/* Reads a frame's ``data`` member at the cursor into ``ctx``: 1, or 0 (not plain). */
typedef int (*DataReader)(Cursor *c, void *ctx);

/* A whole frame: {"topic": <topic>, "type": str, "ts": int, "data": <read_data>, "cts":
 * int (optional)}, members in any order, each once and nothing else, then blanks to the
 * end. 1, or 0 (not the plain case, or another topic: then env->other names it; the
 * caller frees what read_data allocated either way). */
static int read_frame(const char *buf, Py_ssize_t len, const char *topic, Py_ssize_t topic_len,
                      DataReader read_data, void *ctx, Envelope *env) {
    Cursor c = {buf, buf + len};
    int have_topic = 0, have_type = 0, have_ts = 0, have_cts = 0, have_data = 0;
    env->cts = 0;
    env->other = NULL;
    if (!expect(&c, '{'))
        return 0;
    for (;;) {
        const char *k, *v;
        Py_ssize_t kn, vn;
        if (!read_plain_string(&c, &k, &kn) || !expect(&c, ':'))
            return 0;
        if (key_is(k, kn, "topic")) {
            if (have_topic++ || !read_plain_string(&c, &v, &vn))
                return 0;
            if (vn != topic_len || memcmp(v, topic, vn) != 0) {
                env->other = v; /* another topic: the caller may know it */
                env->other_len = vn;
                return 0;
            }
        } else if (key_is(k, kn, "type")) {
            if (have_type++ || !read_plain_string(&c, &env->type, &env->type_len))
                return 0;
        } else if (key_is(k, kn, "ts")) {
            if (have_ts++ || !read_plain_int(&c, &env->ts))
                return 0;
        } else if (key_is(k, kn, "cts")) {
            if (have_cts++ || !read_plain_int(&c, &env->cts))
                return 0;
        } else if (key_is(k, kn, "data")) {
            if (have_data++ || !read_data(&c, ctx))
                return 0;
        } else {
            return 0;
        }
        int end = member_end(&c);
        if (end == 0)
            return 0;
        if (end == 2)
            break;
    }
    skip_ws(&c);
    return c.p == c.end && have_topic && have_type && have_ts && have_data;
}

typedef struct {
    int pdec, qdec;
    DeltaFrame *f;
} DeltaContext;

static int read_delta_member(Cursor *c, void *ctx) {
    DeltaContext *d = ctx;
    return read_delta_data(c, d->pdec, d->qdec, d->f);
}

/* -- a whole public trade frame ----------------------------------------------------------- */

typedef struct {
    int64_t T, price, qty;
    int is_buy;
    const char *id;
    Py_ssize_t id_len;
} TradeRow;

/* ``true`` or ``false`` at the cursor. 1, or 0 otherwise. */
static int read_plain_bool(Cursor *c) {
    skip_ws(c);
    Py_ssize_t left = c->end - c->p;
    if (left >= 4 && memcmp(c->p, "true", 4) == 0) {
        c->p += 4;
        return 1;
    }
    if (left >= 5 && memcmp(c->p, "false", 5) == 0) {
        c->p += 5;
        return 1;
    }
    return 0;
}

/* One trade object: T, s (== symbol), S (Buy or Sell), v (> 0), p (> 0), and the
 * optional i (an id of printable ASCII), L, BT, RPI and seq, each once and nothing
 * else. 1, or 0 (not the plain case). */
static int read_trade(Cursor *c, const char *symbol, Py_ssize_t symbol_len, int pdec, int qdec,
                      TradeRow *t) {
    int have_T = 0, have_s = 0, have_S = 0, have_v = 0, have_p = 0, have_i = 0, have_L = 0,
        have_BT = 0, have_RPI = 0, have_seq = 0;
    int64_t ignored;
    t->id = "";
    t->id_len = 0;
    if (!expect(c, '{'))
        return 0;
    for (;;) {
        const char *k, *v;
        Py_ssize_t kn, vn;
        if (!read_plain_string(c, &k, &kn) || !expect(c, ':'))
            return 0;
        if (key_is(k, kn, "T")) {
            if (have_T++ || !read_plain_int(c, &t->T) || t->T < MS_MIN || t->T > MS_MAX)
                return 0;
        } else if (key_is(k, kn, "s")) {
            if (have_s++ || !read_plain_string(c, &v, &vn) || vn != symbol_len ||
                memcmp(v, symbol, vn) != 0)
                return 0;
        } else if (key_is(k, kn, "S")) {
            if (have_S++ || !read_plain_string(c, &v, &vn))
                return 0;
            if (key_is(v, vn, "Buy"))
                t->is_buy = 1;
            else if (key_is(v, vn, "Sell"))
                t->is_buy = 0;
            else
                return 0;
        } else if (key_is(k, kn, "v")) {
            if (have_v++ || !read_number(c, qdec, 1, &t->qty))
                return 0;
        } else if (key_is(k, kn, "p")) {
            if (have_p++ || !read_number(c, pdec, 1, &t->price))
                return 0;
        } else if (key_is(k, kn, "i")) {
            if (have_i++ || !read_plain_string(c, &t->id, &t->id_len) ||
                t->id_len > MAX_ID_CHARS)
                return 0;
        } else if (key_is(k, kn, "L")) {
            if (have_L++ || !read_plain_string(c, &v, &vn))
                return 0;
        } else if (key_is(k, kn, "BT")) {
            if (have_BT++ || !read_plain_bool(c))
                return 0;
        } else if (key_is(k, kn, "RPI")) {
            if (have_RPI++ || !read_plain_bool(c))
                return 0;
        } else if (key_is(k, kn, "seq")) {
            if (have_seq++ || !read_plain_int(c, &ignored))
                return 0;
        } else {
            return 0;
        }
        int end = member_end(c);
        if (end == 0)
            return 0;
        if (end == 2)
            break;
    }
    return have_T && have_s && have_S && have_v && have_p;
}

typedef struct {
    const char *symbol;
    Py_ssize_t symbol_len;
    int pdec, qdec;
    TradeRow *rows; /* PyMem; the caller frees it */
    Py_ssize_t n;
} TradeContext;

/* A frame's ``data`` array of trades into ctx->rows. 1, or 0 (not the plain case). */
static int read_trades(Cursor *c, void *ctx) {
    TradeContext *t = ctx;
    Py_ssize_t cap = 4;
    if (t->rows != NULL || !expect(c, '['))
        return 0;
    t->rows = PyMem_Malloc(sizeof(TradeRow) * cap);
    if (t->rows == NULL)
        return 0;
    skip_ws(c);
    if (c->p < c->end && *c->p == ']') {
        c->p++;
        return 1;
    }
    for (;;) {
        if (t->n == cap) {
            cap *= 2;
            TradeRow *grown = PyMem_Realloc(t->rows, sizeof(TradeRow) * cap);
            if (grown == NULL)
                return 0;
            t->rows = grown;
        }
        if (!read_trade(c, t->symbol, t->symbol_len, t->pdec, t->qdec, &t->rows[t->n]))
            return 0;
        t->n++;
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == ']') {
            c->p++;
            return 1;
        }
        return 0;
    }
}

/* A trade context, the ``trades`` tuple the entry points take: (topic, symbol, pdec, qdec,
 * make, fields, buy, sell), kept by the caller for its current trade symbol. */
typedef struct {
    const char *topic;
    Py_ssize_t topic_len;
    PyObject *symbol; /* borrowed, as the objects below */
    const char *symbol_text;
    Py_ssize_t symbol_len;
    int pdec, qdec;
    PyObject *make, *fields, *buy, *sell;
} TradeArgs;

/* Unpack a ``trades`` tuple into *a. 1 ok, 0 not the plain case (decimals out of range),
 * -1 error. */
static int trade_args(PyObject *t, TradeArgs *a) {
    if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != 8) {
        PyErr_SetString(PyExc_TypeError, "trades must be a tuple of 8 items");
        return -1;
    }
    a->topic = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(t, 0), &a->topic_len);
    if (a->topic == NULL)
        return -1;
    a->symbol = PyTuple_GET_ITEM(t, 1);
    a->symbol_text = PyUnicode_AsUTF8AndSize(a->symbol, &a->symbol_len);
    if (a->symbol_text == NULL)
        return -1;
    long pdec = PyLong_AsLong(PyTuple_GET_ITEM(t, 2));
    long qdec = PyLong_AsLong(PyTuple_GET_ITEM(t, 3));
    if (PyErr_Occurred())
        return -1;
    a->make = PyTuple_GET_ITEM(t, 4);
    a->fields = PyTuple_GET_ITEM(t, 5);
    a->buy = PyTuple_GET_ITEM(t, 6);
    a->sell = PyTuple_GET_ITEM(t, 7);
    if (!PyTuple_Check(a->fields) || PyTuple_GET_SIZE(a->fields) != 7) {
        PyErr_SetString(PyExc_TypeError, "trade fields must be a tuple of 7 names");
        return -1;
    }
    if (pdec < 0 || pdec > MAX_DIGITS || qdec < 0 || qdec > MAX_DIGITS)
        return 0;
    a->pdec = (int)pdec;
    a->qdec = (int)qdec;
    return 1;
}

/* An entry point's answer to a check that did not pass: NULL for an error (-1, the
 * exception is set), None for a frame out of the plain case (0). */
static PyObject *declined(int ok) {
    return ok < 0 ? NULL : Py_NewRef(Py_None);
}

/* A receive time in ns: 1 ok, 0 not the plain case (negative, past 64 bits), -1 error. */
static int read_recv(PyObject *o, int64_t *out) {
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (overflow || v < 0)
        return 0;
    *out = v;
    return 1;
}

/* The trades of a whole frame's text (trade_frame's answer, a new reference). */
static PyObject *trades_from(const char *buf, Py_ssize_t len, const TradeArgs *a,
                             int64_t recv_ns) {
    PyObject *result = NULL, *out = NULL;
    TradeContext ctx = {a->symbol_text, a->symbol_len, a->pdec, a->qdec, NULL, 0};
    Envelope env = {NULL, 0, 0, 0, NULL, 0};
    if (!read_frame(buf, len, a->topic, a->topic_len, read_trades, &ctx, &env) ||
        env.ts < MS_MIN || env.ts > MS_MAX) {
        result = env.other != NULL ? PyUnicode_FromStringAndSize(env.other, env.other_len)
                                   : Py_NewRef(Py_None);
        goto done;
    }
    TradeRow *rows = ctx.rows;
    Py_ssize_t n = ctx.n;
    out = PyList_New(n);
    if (out == NULL)
        goto done;
    int64_t recv = recv_ns ? recv_ns : env.ts * 1000000;
    for (Py_ssize_t i = 0; i < n; i++) {
        TradeRow *t = &rows[i];
        PyObject *values[7] = {a->symbol, NULL, NULL, NULL, NULL, t->is_buy ? a->buy : a->sell,
                               NULL};
        values[1] = PyLong_FromLongLong(t->T * 1000000);
        values[2] = PyLong_FromLongLong(recv);
        values[3] = PyLong_FromLongLong(t->price);
        values[4] = PyLong_FromLongLong(t->qty);
        values[6] = PyUnicode_FromStringAndSize(t->id, t->id_len);
        PyObject *ev = NULL;
        if (values[1] && values[2] && values[3] && values[4] && values[6])
            ev = PyObject_Vectorcall(a->make, values, 0, a->fields);
        for (int j = 1; j < 7; j++)
            if (j != 5)
                Py_XDECREF(values[j]);
        if (ev == NULL)
            goto done;
        PyList_SET_ITEM(out, i, ev);
    }
    result = out;
    out = NULL;
done:
    Py_XDECREF(out);
    PyMem_Free(ctx.rows);
    return result;
}

/* trade_frame(frame, trades, recv_ns) -> [event, ...] | other topic | None
 *
 * A public trade frame of the ``trades`` context's topic whose every trade is of its
 * symbol and plain (times in [MS_MIN, MS_MAX], side Buy or Sell, price and size > 0 on the
 * grid of pdec / qdec decimals, an id of at most MAX_ID_CHARS printable ASCII
 * characters): one event per trade, ``make(**dict(zip(fields, (symbol, ts, recv_ts,
 * price, qty, side, trade_id))))`` with times in ns and ``recv_ts`` = ``recv_ns`` or the
 * push time; ``side`` is ``buy`` or ``sell``. A frame of another topic answers that topic
 * (as book_delta_frame does); anything else None: the caller decodes the frame. */
static PyObject *trade_frame(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "trade_frame takes 3 arguments");
        return NULL;
    }
    TradeArgs a;
    int64_t recv_ns = 0;
    int ok = trade_args(args[1], &a);
    if (ok > 0)
        ok = read_recv(args[2], &recv_ns);
    if (ok <= 0)
        return declined(ok);
    Py_buffer view;
    const char *buf;
    Py_ssize_t len;
    ok = frame_text(args[0], &view, &buf, &len);
    if (ok <= 0)
        return declined(ok);
    PyObject *result = trades_from(buf, len, &a, recv_ns);
    if (view.obj != NULL)
        PyBuffer_Release(&view);
    return result;
}

/* -- a whole book delta frame, and the event it makes ------------------------------------- */

/* book_delta_frame(book_args, frame, next_u, recv_ns, trades) -> event | [trade event, ...]
 *                                                                | other topic | None
 *
 * BookSequencer's hot path in one call. ``book_args`` is the sequencer's fixed tuple
 * (book, topic, pdec, qdec, symbol, make, fields). A delta frame of ``topic`` (str, or a
 * bytes-like object) whose ``u`` is ``next_u`` (never 1), whose times (ms; cts defaults
 * to ts) lie in [MS_MIN, MS_MAX], is applied to ``book``, ``book.update_id`` set to its
 * ``u``, and its event returned: ``make(**dict(zip(fields, (symbol, cts in ns, recv_ns or
 * ts in ns, bid levels, ask levels, u, seq))))``, levels in units. A frame of the topic of
 * ``trades`` (a trade context as trade_frame takes, or None) answers what trade_frame
 * answers, in the same call: the two kinds of frame that make up a feed each cost one
 * call. A frame of another topic (a plain string) answers that topic, so the caller can
 * try the book it belongs to. Anything else (a snapshot, a gap, a field more or less, any
 * number not plain) answers None with the book untouched: the caller decodes the frame
 * as usual. */
static PyObject *book_delta_frame(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "book_delta_frame takes 5 arguments");
        return NULL;
    }
    PyObject *fixed = args[0], *frame = args[1], *trades = args[4];
    if (!PyTuple_Check(fixed) || PyTuple_GET_SIZE(fixed) != 7 ||
        !PyTuple_Check(PyTuple_GET_ITEM(fixed, 6)) ||
        PyTuple_GET_SIZE(PyTuple_GET_ITEM(fixed, 6)) != 7) {
        PyErr_SetString(PyExc_TypeError,
                        "book_args must be (book, topic, pdec, qdec, symbol, make, fields) "
                        "with 7 field names");
        return NULL;
    }
    PyObject *book = PyTuple_GET_ITEM(fixed, 0);
    Py_ssize_t topic_len;
    const char *topic = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(fixed, 1), &topic_len);
    if (topic == NULL)
        return NULL;
    long pdec = PyLong_AsLong(PyTuple_GET_ITEM(fixed, 2));
    long qdec = PyLong_AsLong(PyTuple_GET_ITEM(fixed, 3));
    long long next_u = PyLong_AsLongLong(args[2]);
    if (PyErr_Occurred())
        return NULL;
    int64_t recv_ns = 0;
    int ok = read_recv(args[3], &recv_ns);
    if (ok <= 0)
        return declined(ok);
    Py_buffer view;
    const char *buf;
    Py_ssize_t len;
    ok = frame_text(frame, &view, &buf, &len);
    if (ok <= 0)
        return declined(ok);
    PyObject *result = NULL, *bl = NULL, *al = NULL;
    DeltaFrame f = {0, 0, NULL, NULL, 0, 0};
    BookFields book_f = {NULL, NULL, 0, 0, 0, 0};
    Envelope env = {NULL, 0, 0, 0, NULL, 0};
    DeltaContext ctx = {(int)pdec, (int)qdec, &f};
    int plain = pdec >= 0 && pdec <= MAX_DIGITS && qdec >= 0 && qdec <= MAX_DIGITS &&
                read_frame(buf, len, topic, topic_len, read_delta_member, &ctx, &env) &&
                key_is(env.type, env.type_len, "delta");
    int64_t cts = env.cts ? env.cts : env.ts;
    if (!plain || f.u != next_u || f.u == 1 || env.ts < MS_MIN || env.ts > MS_MAX ||
        cts < MS_MIN || cts > MS_MAX) {
        if (env.other == NULL) {
            result = Py_NewRef(Py_None);
            goto done;
        }
        if (trades != Py_None) {
            TradeArgs a;
            ok = trade_args(trades, &a);
            if (ok < 0)
                goto done;
            if (a.topic_len == env.other_len && memcmp(a.topic, env.other, a.topic_len) == 0) {
                result = ok ? trades_from(buf, len, &a, recv_ns) : Py_NewRef(Py_None);
                goto done;
            }
        }
        result = PyUnicode_FromStringAndSize(env.other, env.other_len);
        goto done;
    }
    if (book_fields(book, &book_f, &result) <= 0 ||
        apply_parsed(book, &book_f, f.lb, f.nb, f.la, f.na, &bl, &al) < 0)
        goto done;
    PyObject *values[7] = {PyTuple_GET_ITEM(fixed, 4), PyLong_FromLongLong(cts * 1000000),
                           PyLong_FromLongLong(recv_ns ? recv_ns : env.ts * 1000000), bl, al,
                           PyLong_FromLongLong(f.u), PyLong_FromLongLong(f.seq)};
    if (values[1] && values[2] && values[5] && values[6] &&
        PyObject_SetAttr(book, S_update_id, values[5]) == 0)
        result = PyObject_Vectorcall(PyTuple_GET_ITEM(fixed, 5), values, 0,
                                     PyTuple_GET_ITEM(fixed, 6));
    Py_XDECREF(values[1]);
    Py_XDECREF(values[2]);
    Py_XDECREF(values[5]);
    Py_XDECREF(values[6]);
done:
    Py_XDECREF(bl);
    Py_XDECREF(al);
    Py_XDECREF(book_f.bids);
    Py_XDECREF(book_f.asks);
    PyMem_Free(f.lb);
    PyMem_Free(f.la);
    if (view.obj != NULL)
        PyBuffer_Release(&view);
    return result;
}

/* Check that ``pairs`` is a sequence of (int, int) tuples within 64 bits. */
static int plain_pairs(PyObject *seq) {
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = items[i];
        if (!PyTuple_CheckExact(t) || PyTuple_GET_SIZE(t) != 2 ||
            !PyLong_CheckExact(PyTuple_GET_ITEM(t, 0)) ||
            !PyLong_CheckExact(PyTuple_GET_ITEM(t, 1)))
            return 0;
        int of = 0;
        PyLong_AsLongLongAndOverflow(PyTuple_GET_ITEM(t, 0), &of);
        if (!of)
            PyLong_AsLongLongAndOverflow(PyTuple_GET_ITEM(t, 1), &of);
        if (of)
            return 0;
    }
    return 1;
}

static int apply_pairs_side(PyObject *book, PyObject *side, PyObject *seq, PyObject *best_name,
                            PyObject *sorted_name, int has_best, int64_t best, int is_bid) {
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    int moved = 0, gone = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *t = items[i];
        PyObject *key = PyTuple_GET_ITEM(t, 0), *value = PyTuple_GET_ITEM(t, 1);
        if (apply_one(side, key, PyLong_AsLongLong(key), PyLong_AsLongLong(value), value,
                      is_bid, &has_best, &best, &moved, &gone) < 0)
            return -1;
    }
    return finish_side(book, side, best_name, sorted_name, has_best, best, moved, gone, is_bid);
}

/* book_apply_pairs(book, bid_levels, ask_levels) -> True | None (not the plain case) */
static PyObject *book_apply_pairs(PyObject *self, PyObject *args) {
    PyObject *book, *pb, *pa;
    if (!PyArg_ParseTuple(args, "OOO", &book, &pb, &pa))
        return NULL;
    PyObject *result = NULL;
    PyObject *sb = PySequence_Fast(pb, "levels must be a sequence");
    if (sb == NULL)
        return NULL;
    PyObject *sa = PySequence_Fast(pa, "levels must be a sequence");
    if (sa == NULL) {
        Py_DECREF(sb);
        return NULL;
    }
    BookFields f = {NULL, NULL, 0, 0, 0, 0};
    if (book_fields(book, &f, &result) <= 0)
        goto done;
    if (!plain_pairs(sb) || !plain_pairs(sa)) {
        Py_INCREF(Py_None);
        result = Py_None;
        goto done;
    }
    if (PySequence_Fast_GET_SIZE(sb) &&
        apply_pairs_side(book, f.bids, sb, S_bb, S_bsorted, f.has_bb, f.bb, 1) < 0)
        goto done;
    if (PySequence_Fast_GET_SIZE(sa) &&
        apply_pairs_side(book, f.asks, sa, S_ba, S_asorted, f.has_ba, f.ba, 0) < 0)
        goto done;
    result = Py_NewRef(Py_True);
done:
    Py_XDECREF(f.bids);
    Py_XDECREF(f.asks);
    Py_DECREF(sb);
    Py_DECREF(sa);
    return result;
}

static PyMethodDef methods[] = {
    {"parse_levels", parse_levels, METH_VARARGS,
     "parse_levels(raw, pdec, qdec) -> [(price, size), ...] in units, or None"},
    {"apply_delta", apply_delta, METH_VARARGS,
     "apply_delta(raw_bids, raw_asks, bids, asks, best_bid, best_ask, pdec, qdec) -> "
     "((levels, best, moved, gone), (levels, best, moved, gone)) or None"},
    {"book_apply_raw", book_apply_raw, METH_VARARGS,
     "book_apply_raw(book, raw_bids, raw_asks, pdec, qdec) -> (bid levels, ask levels) or None"},
    {"book_delta_frame", (PyCFunction)(void (*)(void))book_delta_frame, METH_FASTCALL,
     "book_delta_frame(book_args, frame, next_u, recv_ns, trades) -> "
     "delta event, [trade event, ...], other topic or None"},
    {"trade_frame", (PyCFunction)(void (*)(void))trade_frame, METH_FASTCALL,
     "trade_frame(frame, trades, recv_ns) -> [event, ...], other topic or None"},
    {"book_apply_pairs", book_apply_pairs, METH_VARARGS,
     "book_apply_pairs(book, bid_levels, ask_levels) -> True or None"},
    {"apply_pairs", apply_pairs, METH_VARARGS,
     "apply_pairs(side, pairs, best, is_bid) -> (best, moved, gone) or None"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "hayate._speedups",
                                    "Compiled per-level work of the market-data path.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__speedups(void) {
    S_bids = PyUnicode_InternFromString("bids");
    S_asks = PyUnicode_InternFromString("asks");
    S_bb = PyUnicode_InternFromString("_bb");
    S_ba = PyUnicode_InternFromString("_ba");
    S_bsorted = PyUnicode_InternFromString("_bsorted");
    S_asorted = PyUnicode_InternFromString("_asorted");
    S_update_id = PyUnicode_InternFromString("update_id");
    if (!S_bids || !S_asks || !S_bb || !S_ba || !S_bsorted || !S_asorted || !S_update_id)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObject(m, "MS_MIN", PyLong_FromLongLong(MS_MIN)) < 0 ||
        PyModule_AddObject(m, "MS_MAX", PyLong_FromLongLong(MS_MAX)) < 0 ||
        PyModule_AddObject(m, "MAX_ID_CHARS", PyLong_FromLong(MAX_ID_CHARS)) < 0 ||
        PyModule_AddObject(m, "MAX_NUMBER_CHARS", PyLong_FromLong(MAX_NUMBER_CHARS)) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
