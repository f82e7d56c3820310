from fleetmig.cli import main

main()
