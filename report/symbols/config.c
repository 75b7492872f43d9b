/*
 * config.c - the frame settings every frame-printing command shares
 * (config.h): the options, and the rules file they may come from.
 *
 * The file is the gate's rules file, found the same way (--rules FILE,
 * else ./.heapsnap.toml when it exists, --rules none for none) and read by
 * the same TOML reader (tomlread_rules), so that a repository's
 * `alloc-fn = ["pool_*"]` charges the pool's callers in `top`, `leaks`
 * and the HTML report as it does in the gate.  Only the frame settings
 * are read here; a key the gate knows is the gate's business, so any
 * other key is skipped, and the gate reports its mistakes.  A bad value
 * of a frame setting is an error with FILE:LINE, never ignored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "input.h"
#include "tomlread.h"

#define CONFIG_DEFAULT_FILE ".heapsnap.toml"

/* The command's choice of file: NULL until --rules. */
static struct {
    const char *rules;
} cfg;

int config_opt(int c, const char *arg, char *err, size_t errlen)
{
    switch (c) {
    case CONFIG_OPT_ALLOC_FN: return frames_alloc_fn_add(arg, err, errlen) < 0 ? -1 : 1;
    case CONFIG_OPT_NO_DEFAULT_ALLOC_FNS: frames_no_default_alloc_fns(); return 1;
    case CONFIG_OPT_SHORTEN_TEMPLATES: frames_shorten_templates(); return 1;
    case CONFIG_OPT_RULES: cfg.rules = arg; return 1;
    case CONFIG_OPT_NATIVE: frames_native_site(); return 1;
    case CONFIG_OPT_INTERPRETER_FRAMES: frames_interpreter_frames(); return 1;
    }
    return 0;
}

/* A flag's value: 1 true, 0 false, -1 neither. */
static int flag_value(const char *v)
{
    return !strcmp(v, "true") ? 1 : !strcmp(v, "false") ? 0 : -1;
}

/* One key = value of the file (each element of an array). */
static int config_key(void *ctx, const char *key, const char *value, int line, char *err,
                      size_t errlen)
{
    const char *path = ctx;
    char why[1024];
    int flag = flag_value(value);
    if (!strcmp(key, "alloc-fn")) {
        if (frames_alloc_fn_add(value, why, sizeof(why)) == 0)
            return 0;
    } else if (!strcmp(key, "no-default-alloc-fns") || !strcmp(key, "shorten-templates")) {
        if (flag == 1 && key[0] == 'n')
            frames_no_default_alloc_fns();
        else if (flag == 1)
            frames_shorten_templates();
        if (flag >= 0)
            return 0;
        cli_bad_value(why, sizeof(why), key, value, "true or false");
    } else {
        return 0; /* a gate rule */
    }
    snprintf(err, errlen, "%s:%d: %s", path, line, why);
    return -1;
}

int config_load(const char *cmd, char *err, size_t errlen)
{
    const char *path = cfg.rules;
    size_t len;
    if (!path)
        path = access(CONFIG_DEFAULT_FILE, R_OK) == 0 ? CONFIG_DEFAULT_FILE : NULL;
    if (!path || !strcmp(path, "none"))
        return 0;
    char *text = in_read_text(path, IN_MAX_RULES, &len, err, errlen);
    int rc = text ? tomlread_rules(path, text, len, config_key, (void *)path, err, errlen) : -1;
    free(text);
    if (rc < 0)
        cli_prefix(err, errlen, cmd);
    return rc < 0 ? 2 : 0;
}
