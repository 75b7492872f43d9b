/* assets.S - the HTML report's scripts and style sheet, embedded whole in the
 * CLI (report/html/htmldoc.c writes them into every page).  Each is NUL-terminated. */
        .section .rodata
        .global html_page_js
        .global html_page_css
        .global html_fold_js
        .global html_leaks_js
        .global html_timeline_js
        .global html_calls_js
        .global html_sizes_js
html_page_js:
        .incbin "report/html/page.js"
        .byte 0
html_fold_js:
        .incbin "report/html/fold.js"
        .byte 0
html_leaks_js:
        .incbin "report/html/leaks.js"
        .byte 0
html_timeline_js:
        .incbin "report/html/timeline.js"
        .byte 0
html_calls_js:
        .incbin "report/html/calls.js"
        .byte 0
html_sizes_js:
        .incbin "report/html/sizes.js"
        .byte 0
html_page_css:
        .incbin "report/html/page.css"
        .byte 0
        .section .note.GNU-stack,"",@progbits
