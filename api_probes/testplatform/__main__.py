from .serving import main

main()
