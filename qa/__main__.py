from qa.cli import main

main()
