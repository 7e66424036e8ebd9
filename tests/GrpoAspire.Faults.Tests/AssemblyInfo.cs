// Each test kills, floods or cuts off real processes and measures their memory and timing: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
