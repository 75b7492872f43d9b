/*
 * json.h - a tiny streaming JSON writer (objects, arrays, strings, numbers,
 * booleans), indented two spaces per level, or compact.
 */
#ifndef REPORT_JSON_H
#define REPORT_JSON_H

#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
    FILE *out;
    int depth;
    int count[JSON_MAX_DEPTH]; /* items written at each open level */
    int after_key;             /* a key was written; its value comes next */
    int compact;               /* no spaces or new lines (json_init_compact) */
    int html;                  /* '<', '>', '&', U+2028 and U+2029 escaped */
};

void json_init(struct json *j, FILE *out);

/* A writer without whitespace, for files read by programs.  With html, the
 * text can sit inside an HTML <script> element: no "</script>" or "<!--"
 * can appear in it, whatever the strings hold. */
void json_init_compact(struct json *j, FILE *out, int html);

/* Containers; inside an object, call json_key first. */
void json_obj_begin(struct json *j);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j);
void json_arr_end(struct json *j);
void json_key(struct json *j, const char *key);

void json_str(struct json *j, const char *s);  /* NULL writes null */
void json_u64(struct json *j, uint64_t v);
void json_i64(struct json *j, int64_t v);
void json_bool(struct json *j, int v);
void json_null(struct json *j);

/* key + value in one call, for objects. */
void json_kstr(struct json *j, const char *key, const char *s);
void json_ku64(struct json *j, const char *key, uint64_t v);
void json_ki64(struct json *j, const char *key, int64_t v);
void json_kbool(struct json *j, const char *key, int v);

/* Ends the document with a newline. */
void json_finish(struct json *j);

#endif
