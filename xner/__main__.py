from xner.cli import main

main()
