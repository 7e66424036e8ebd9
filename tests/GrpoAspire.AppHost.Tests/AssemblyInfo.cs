// Each test runs a whole app (DCP, the dashboard on its fixed ports, redis-server, the services): one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
