/* assets.S - the HTML report's script and style sheet, embedded whole in the
 * CLI (report/html/html.c writes them into every page).  Each is NUL-terminated. */
        .section .rodata
        .global html_page_js
        .global html_page_css
html_page_js:
        .incbin "report/html/page.js"
        .byte 0
html_page_css:
        .incbin "report/html/page.css"
        .byte 0
        .section .note.GNU-stack,"",@progbits
