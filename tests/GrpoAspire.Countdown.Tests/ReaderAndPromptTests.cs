using GrpoAspire.Countdown.Datasets;
using GrpoAspire.Tasks.Prompts;
using Parquet.Serialization;

namespace GrpoAspire.Countdown.Tests;

public sealed class ReaderAndPromptTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("grpo-countdown-tests").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void JsonlReaderReadsTasksAndIgnoresOtherFields()
    {
        var path = Path.Combine(_folder, "tasks.jsonl");
        File.WriteAllText(path, "{\"target\": 85, \"nums\": [14, 70, 80], \"source\": \"x\"}\n\n{\"nums\":[1,2,3],\"target\":6}\n");
        var tasks = TaskReaders.ReadJsonl(path);
        Assert.Equal([new CountdownTask([14, 70, 80], 85), new CountdownTask([1, 2, 3], 6)], tasks);
    }

    [Theory]
    [InlineData("{\"nums\": [1, 2], \"target\": 3", "not a JSON task object")]
    [InlineData("{\"nums\": [1, 2]}", "needs \"nums\"")]
    [InlineData("{\"nums\": [1, 2.5], \"target\": 3}", "not a JSON task object")]
    [InlineData("{\"nums\": [1, -2], \"target\": 3}", "non-negative")]
    [InlineData("{\"nums\": [1, 2, 3, 4, 5, 6, 7], \"target\": 3}", "at most 6")]
    public void JsonlReaderNamesTheLineOfABadTask(string badLine, string expected)
    {
        var path = Path.Combine(_folder, "bad.jsonl");
        File.WriteAllText(path, "{\"nums\": [1, 2], \"target\": 3}\n" + badLine + "\n");
        var error = Assert.Throws<TaskDataException>(() => TaskReaders.ReadJsonl(path));
        Assert.Contains("bad.jsonl:2", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    /// <summary>The Hugging Face dataset's schema as pyarrow writes it: nullable int64 target, list of nullable int64.</summary>
    private sealed class HuggingFaceRow
    {
        [System.Text.Json.Serialization.JsonPropertyName("target")]
        public long? Target { get; set; }

        [System.Text.Json.Serialization.JsonPropertyName("nums")]
        public List<long?>? Nums { get; set; }
    }

    [Fact]
    public async Task ParquetReaderReadsTheHuggingFaceLayout()
    {
        var path = Path.Combine(_folder, "train-00000-of-00001.parquet");
        var rows = new TaskGenerator(1).Take(200)
            .Select(t => new HuggingFaceRow { Target = t.Target, Nums = t.Nums.Select(n => (long?)n).ToList() })
            .ToList();
        await ParquetSerializer.SerializeAsync(rows, path);

        var tasks = await TaskReaders.ReadFileAsync(path);
        Assert.Equal(new TaskGenerator(1).Take(200), tasks);
    }

    [Fact]
    public async Task ReadingAFileThatIsNotParquetFailsWithAClearMessage()
    {
        var path = Path.Combine(_folder, "broken.parquet");
        await File.WriteAllTextAsync(path, "not parquet");
        var error = await Assert.ThrowsAsync<TaskDataException>(() => TaskReaders.ReadFileAsync(path));
        Assert.Contains("is not a Countdown parquet file", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<TaskDataException>(() => TaskReaders.ReadFileAsync(Path.Combine(_folder, "missing.parquet")));
    }

    [Fact]
    public void SeedTemplateRendersTheSeedsExactChatMlPrompt()
    {
        var prompt = PromptTemplate.Get(PromptTemplate.SeedR1).Render(CountdownDefinition.ToRecord(new CountdownTask([14, 70, 80], 85)));
        const string expected =
            "<|im_start|>system\nYou are a helpful assistant. You first thinks about the reasoning process in the mind "
            + "and then provides the user with the answer.<|im_end|>\n"
            + "<|im_start|>user\nUsing the numbers [14, 70, 80], create an equation that equals 85. You can use basic "
            + "arithmetic operations (+, -, *, /) and each number can only be used once. Show your work in <think> </think> "
            + "tags. And return the final equation and results in <answer> </answer> tags, for example <answer> (1 + 2) / 3 "
            + "= 1 </answer>.<|im_end|>\n"
            + "<|im_start|>assistant\nLet me solve this step by step.\n<think>";
        Assert.Equal(expected, prompt);
    }

    [Fact]
    public void TinyZeroBaseTemplateIsPlainTextEndingInThePrefill()
    {
        var prompt = PromptTemplate.Get(PromptTemplate.TinyZeroBase).Render(CountdownDefinition.ToRecord(new CountdownTask([1, 2, 3], 6)));
        Assert.StartsWith("A conversation between User and Assistant.", prompt, StringComparison.Ordinal);
        Assert.Contains("User: Using the numbers [1, 2, 3], create an equation that equals 6.", prompt, StringComparison.Ordinal);
        Assert.EndsWith("\nAssistant: Let me solve this step by step.\n<think>", prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("<|im_start|>", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public void CompactTemplateIsShortPlainTextEndingInTheThinkPrefill()
    {
        var prompt = PromptTemplate.Get(PromptTemplate.Compact).Render(CountdownDefinition.ToRecord(new CountdownTask([14, 70, 80], 85)));
        Assert.Equal("Use [14, 70, 80] once each with + - * / ( ) to make 85.\n<think>", prompt);
        Assert.Equal(PromptKind.Text, PromptTemplate.Get(PromptTemplate.Compact).Kind);
    }

    [Fact]
    public void ChatMlAddsQwensDefaultSystemTurnAndTheGenerationPrompt()
    {
        var text = ChatMl.Render([new(ChatMessage.UserRole, "hi")], addGenerationPrompt: true);
        Assert.Equal(
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
            + "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n",
            text);
    }

    [Fact]
    public void UnknownTemplatesAndRolesAreRejectedWithTheValidChoices()
    {
        var error = Assert.Throws<ArgumentException>(() => PromptTemplate.Get("r1"));
        Assert.Contains("seed-r1", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ChatMl.Render([new("tool", "x")]));
    }
}
