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

#define MAX_NUMBER_CHARS 48   /* hayate.numbers.MAX_NUMBER_CHARS */
#define MAX_DIGITS 18         /* fits int64 whatever the digits */

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
 * 1 on success; 0 when the text is anything but the plain case (the caller bails). */
static int read_number(Cursor *c, int decimals, int64_t minimum, int64_t *out) {
    skip_ws(c);
    if (c->p >= c->end || *c->p != '"')
        return 0;
    const char *s = ++c->p;
    while (c->p < c->end && *c->p != '"') {
        if (*c->p == '\\')
            return 0; /* escapes: the strict path */
        c->p++;
    }
    if (c->p >= c->end)
        return 0;
    const char *e = c->p++; /* past the closing quote */
    Py_ssize_t len = e - s;
    if (len == 0 || len > MAX_NUMBER_CHARS)
        return 0;
    const char *dot = NULL;
    for (const char *q = s; q < e; q++) {
        if (*q == '.') {
            if (dot != NULL)
                return 0;
            dot = q;
        } else if (*q < '0' || *q > '9') {
            return 0; /* a sign, an exponent, a blank, a non-ASCII digit... */
        }
    }
    const char *whole_end = dot ? dot : e;
    if (whole_end == s)
        return 0; /* ".5" */
    const char *frac = dot ? dot + 1 : e;
    const char *frac_end = e;
    if (dot && frac == frac_end)
        return 0; /* "1." */
    /* Trailing zeros beyond our precision are tolerated ("1.500000" with 1 decimal). */
    while (frac_end - frac > decimals && frac_end[-1] == '0')
        frac_end--;
    Py_ssize_t nfrac = frac_end - frac;
    if (nfrac > decimals)
        return 0; /* off the grid: the strict path refuses it */
    /* Leading zeros of the whole part do not count towards the digit budget. */
    const char *w = s;
    while (w < whole_end - 1 && *w == '0')
        w++;
    Py_ssize_t ndigits = (whole_end - w) + decimals;
    if (ndigits > MAX_DIGITS)
        return 0;
    int64_t v = 0;
    for (const char *q = w; q < whole_end; q++)
        v = v * 10 + (*q - '0');
    for (const char *q = frac; q < frac_end; q++)
        v = v * 10 + (*q - '0');
    v *= POW10[decimals - nfrac];
    if (v < minimum)
        return 0;
    *out = v;
    return 1;
}

/* The level array ``raw`` -> a C array of (price, size) units. Returns the number of
 * levels, or -1 when it is not the plain case (nothing to free then). */
static Py_ssize_t read_levels(const char *buf, Py_ssize_t n, int pdec, int qdec,
                              int64_t **out) {
    Cursor c = {buf, buf + n};
    *out = NULL;
    if (pdec < 0 || pdec > MAX_DIGITS || qdec < 0 || qdec > MAX_DIGITS)
        return -1;
    if (!expect(&c, '['))
        return -1;
    Py_ssize_t cap = 16, count = 0;
    int64_t *lv = PyMem_Malloc(sizeof(int64_t) * 2 * cap);
    if (lv == NULL)
        return -1;
    skip_ws(&c);
    if (c.p < c.end && *c.p == ']') {
        c.p++;
    } else {
        for (;;) {
            int64_t price, size;
            if (!expect(&c, '[') || !read_number(&c, pdec, 1, &price) || !expect(&c, ',') ||
                !read_number(&c, qdec, 0, &size) || !expect(&c, ']'))
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
            skip_ws(&c);
            if (c.p < c.end && *c.p == ',') {
                c.p++;
                continue;
            }
            if (c.p < c.end && *c.p == ']') {
                c.p++;
                break;
            }
            goto bail;
        }
    }
    skip_ws(&c);
    if (c.p != c.end)
        goto bail;
    *out = lv;
    return count;
bail:
    PyMem_Free(lv);
    return -1;
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
    int present = PyDict_Contains(side, key);
    if (present < 0)
        return -1;
    if (size) {
        if (!present) {
            *moved = 1;
            if (!*has_best || (is_bid ? price > *best : price < *best)) {
                *best = price;
                *has_best = 1;
            }
        }
        return PyDict_SetItem(side, key, value);
    }
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

static PyObject *S_bids, *S_asks, *S_bb, *S_ba, *S_bsorted, *S_asorted;

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

/* Fetch book.bids/asks (dicts) and book._bb/_ba (int or None). 1 ok, 0 not the plain
 * case, -1 error. New references in *bids/*asks when 1; otherwise both are NULL (the
 * caller's cleanup must not release them a second time). */
static int book_fields(PyObject *book, PyObject **bids, PyObject **asks, int *has_bb,
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

/* book_apply_raw(book, raw_bids, raw_asks, pdec, qdec) -> (bid levels, ask levels) | None */
static PyObject *book_apply_raw(PyObject *self, PyObject *args) {
    PyObject *book;
    Py_buffer vb, va;
    int pdec, qdec;
    if (!PyArg_ParseTuple(args, "Oy*y*ii", &book, &vb, &va, &pdec, &qdec))
        return NULL;
    PyObject *result = NULL, *bids = NULL, *asks = NULL, *lb_list = NULL, *la_list = NULL;
    int64_t *lb = NULL, *la = NULL;
    int has_bb, has_ba;
    int64_t bb, ba;
    int ok = book_fields(book, &bids, &asks, &has_bb, &bb, &has_ba, &ba);
    if (ok <= 0) {
        if (ok == 0) {
            Py_INCREF(Py_None);
            result = Py_None;
        }
        goto done;
    }
    Py_ssize_t nb = read_levels(vb.buf, vb.len, pdec, qdec, &lb);
    Py_ssize_t na = nb >= 0 ? read_levels(va.buf, va.len, pdec, qdec, &la) : -1;
    if (nb < 0 || na < 0) {
        Py_INCREF(Py_None);
        result = Py_None;
        goto done;
    }
    int moved = 0, gone = 0;
    lb_list = PyList_New(nb);
    if (lb_list == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < nb; i++) {
        PyObject *t = pair(lb[2 * i], lb[2 * i + 1]);
        if (t == NULL)
            goto done;
        PyList_SET_ITEM(lb_list, i, t);
        if (apply_one(bids, PyTuple_GET_ITEM(t, 0), lb[2 * i], lb[2 * i + 1],
                      PyTuple_GET_ITEM(t, 1), 1, &has_bb, &bb, &moved, &gone) < 0)
            goto done;
    }
    if (finish_side(book, bids, S_bb, S_bsorted, has_bb, bb, moved, gone, 1) < 0)
        goto done;
    moved = gone = 0;
    la_list = PyList_New(na);
    if (la_list == NULL)
        goto done;
    for (Py_ssize_t i = 0; i < na; i++) {
        PyObject *t = pair(la[2 * i], la[2 * i + 1]);
        if (t == NULL)
            goto done;
        PyList_SET_ITEM(la_list, i, t);
        if (apply_one(asks, PyTuple_GET_ITEM(t, 0), la[2 * i], la[2 * i + 1],
                      PyTuple_GET_ITEM(t, 1), 0, &has_ba, &ba, &moved, &gone) < 0)
            goto done;
    }
    if (finish_side(book, asks, S_ba, S_asorted, has_ba, ba, moved, gone, 0) < 0)
        goto done;
    result = PyTuple_Pack(2, lb_list, la_list);
done:
    Py_XDECREF(lb_list);
    Py_XDECREF(la_list);
    Py_XDECREF(bids);
    Py_XDECREF(asks);
    PyMem_Free(lb);
    PyMem_Free(la);
    PyBuffer_Release(&vb);
    PyBuffer_Release(&va);
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
    PyObject *result = NULL, *bids = NULL, *asks = NULL;
    PyObject *sb = PySequence_Fast(pb, "levels must be a sequence");
    if (sb == NULL)
        return NULL;
    PyObject *sa = PySequence_Fast(pa, "levels must be a sequence");
    if (sa == NULL) {
        Py_DECREF(sb);
        return NULL;
    }
    int has_bb, has_ba;
    int64_t bb, ba;
    int ok = book_fields(book, &bids, &asks, &has_bb, &bb, &has_ba, &ba);
    if (ok <= 0) {
        if (ok == 0) {
            Py_INCREF(Py_None);
            result = Py_None;
        }
        goto done;
    }
    if (!plain_pairs(sb) || !plain_pairs(sa)) {
        Py_INCREF(Py_None);
        result = Py_None;
        goto done;
    }
    if (PySequence_Fast_GET_SIZE(sb) &&
        apply_pairs_side(book, bids, sb, S_bb, S_bsorted, has_bb, bb, 1) < 0)
        goto done;
    if (PySequence_Fast_GET_SIZE(sa) &&
        apply_pairs_side(book, asks, sa, S_ba, S_asorted, has_ba, ba, 0) < 0)
        goto done;
    Py_INCREF(Py_True);
    result = Py_True;
done:
    Py_XDECREF(bids);
    Py_XDECREF(asks);
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
    if (!S_bids || !S_asks || !S_bb || !S_ba || !S_bsorted || !S_asorted)
        return NULL;
    return PyModule_Create(&module);
}
