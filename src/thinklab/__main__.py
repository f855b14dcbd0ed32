from thinklab.cli.main import main

main()
