from tryon3d.cli import main

raise SystemExit(main())
