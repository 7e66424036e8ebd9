using GrpoAspire.Countdown.Datasets;
using GrpoAspire.Countdown.Rewards;
using GrpoAspire.Countdown.Solver;

namespace GrpoAspire.Countdown.Tests;

public sealed class SolverAndDatasetTests
{
    [Fact]
    public void SolverFindsAnEquationThatTheRewardAccepts()
    {
        var task = new CountdownTask([75, 99, 62, 34], 72);
        var solution = CountdownSolver.Solve(task);
        Assert.NotNull(solution);
        Assert.Equal(EquationVerdict.Correct, EquationEvaluator.Check(solution, task));
    }

    [Fact]
    public void SolverNeedsDivisionAndBracketsWhereTheTaskDoes()
    {
        // 6 / (1 - 3/4) = 24: only reachable through a fraction.
        var task = new CountdownTask([6, 1, 3, 4], 24);
        var solution = CountdownSolver.Solve(task);
        Assert.NotNull(solution);
        Assert.Equal(EquationVerdict.Correct, EquationEvaluator.Check(solution, task));
    }

    [Fact]
    public void SolverReturnsNullForAnUnsolvableTask()
    {
        Assert.Null(CountdownSolver.Solve(new CountdownTask([2, 2], 5)));
        Assert.Null(CountdownSolver.Solve(new CountdownTask([1, 1, 1], 100)));
        Assert.Equal([1, 4], CountdownSolver.ReachableIntegers([2, 2], 1, 100));
    }

    [Fact]
    public void GeneratedTasksAreSolvableAndWithinTheConfiguredRanges()
    {
        var tasks = new TaskGenerator(seed: 11).Take(300).ToList();
        foreach (var task in tasks)
        {
            Assert.InRange(task.Nums.Count, 3, 4);
            Assert.All(task.Nums, n => Assert.InRange(n, 1, 100));
            Assert.InRange(task.Target, 1, 100);
            var solution = CountdownSolver.Solve(task);
            Assert.NotNull(solution);
            Assert.Equal(EquationVerdict.Correct, EquationEvaluator.Check(solution, task));
        }

        Assert.Contains(tasks, t => t.Nums.Count == 3);
        Assert.Contains(tasks, t => t.Nums.Count == 4);
    }

    [Fact]
    public void TheSameSeedGivesTheSameTasks()
    {
        Assert.Equal(new TaskGenerator(5).Take(50), new TaskGenerator(5).Take(50));
        Assert.NotEqual(new TaskGenerator(5).Take(50), new TaskGenerator(6).Take(50));
    }

    [Fact]
    public void SplitKeepsNinetyPercentForTrainingAndIsDeterministic()
    {
        var tasks = new TaskGenerator(3).Take(1000).ToList();
        var split = TaskSplits.ShuffleAndSplit(tasks, seed: 42);
        Assert.Equal(900, split.Train.Count);
        Assert.Equal(100, split.Test.Count);
        Assert.Equal(split.Test, TaskSplits.ShuffleAndSplit(tasks, seed: 42).Test);
        Assert.NotEqual(split.Test, TaskSplits.ShuffleAndSplit(tasks, seed: 43).Test);
        Assert.Equal(tasks.Select(t => t.Key).Order(), split.Train.Concat(split.Test).Select(t => t.Key).Order());
        var capped = TaskSplits.ShuffleAndSplit(tasks, maxTasks: 500);
        Assert.Equal((450, 50), (capped.Train.Count, capped.Test.Count));
    }

    [Fact]
    public void HeldOutSetIsFixedDistinctAndExcludedFromTraining()
    {
        var heldOut = TaskSplits.HeldOut(500);
        Assert.Equal(500, heldOut.Select(t => t.Key).Distinct().Count());
        Assert.Equal(heldOut, TaskSplits.HeldOut(500));
        var training = TaskSplits.ExcludingHeldOut(heldOut.Take(10).Concat(new TaskGenerator(9).Take(100)), heldOut).ToList();
        Assert.DoesNotContain(training, t => heldOut.Any(h => h.Key == t.Key));
        Assert.True(training.Count >= 90);
    }

    [Fact]
    public void TasksRejectBadNumbers()
    {
        Assert.Throws<ArgumentException>(() => new CountdownTask([], 1));
        Assert.Throws<ArgumentException>(() => new CountdownTask([1, 2, 3, 4, 5, 6, 7], 1));
        Assert.Throws<ArgumentException>(() => new CountdownTask([1, -2], 1));
        Assert.Equal("[14, 70, 80]", new CountdownTask([14, 70, 80], 85).NumsAsPythonList);
    }
}
