import sys

from cardiacmotion.cli.main import main

sys.exit(main())
