from tryon3d.cli import console_main

console_main()
