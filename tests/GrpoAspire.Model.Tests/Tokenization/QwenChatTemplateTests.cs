using GrpoAspire.Model.Tokenization;

namespace GrpoAspire.Model.Tests.Tokenization;

/// <summary>ApplyChatTemplate against Qwen2.5-Instruct's jinja template rendered by @huggingface/jinja.</summary>
[Collection(QwenCollection.Name)]
public sealed class QwenChatTemplateTests(QwenFixture fixture)
{
    public static TheoryData<string> CaseNames => [.. QwenFixture.ChatCases().Select(c => c.Name)];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void ApplyChatTemplateEqualsTheJinjaRendering(string name)
    {
        var chat = QwenFixture.ChatCases().Single(c => c.Name == name);
        string rendered = fixture.Tokenizer.ApplyChatTemplate(chat.Messages, chat.AddGenerationPrompt, chat.ContinueFinalMessage);
        Assert.Equal(chat.Rendered, rendered);
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void TheRenderedChatEncodesToTheHuggingFaceIds(string name)
    {
        var chat = QwenFixture.ChatCases().Single(c => c.Name == name);
        Assert.Equal(chat.Ids, fixture.Tokenizer.Encode(chat.Rendered));
    }

    [Fact]
    public void TheFixtureCoversThePrefillAndTheGenerationPrompt()
    {
        var cases = QwenFixture.ChatCases();
        Assert.Contains(cases, c => c.ContinueFinalMessage && c.Messages.Select(m => m.Role).SequenceEqual(["system", "user", "assistant"]));
        Assert.Contains(cases, c => c.AddGenerationPrompt);
    }

    [Fact]
    public void ContinueFinalMessageLeavesTheAssistantTurnOpen()
    {
        string prompt = QwenChatTemplate.Render([("user", "Hi"), ("assistant", "Let me think.\n<think>\n")], continueFinalMessage: true);
        Assert.EndsWith("<|im_start|>assistant\nLet me think.\n<think>", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public void AnEmptyFinalMessageKeepsTheWholeRenderingAsInTransformers()
    {
        string prompt = QwenChatTemplate.Render([("user", "Hi"), ("assistant", "")], continueFinalMessage: true);
        Assert.EndsWith("<|im_start|>assistant\n<|im_end|>\n", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownRolesAndContradictoryFlagsAreRejectedWithTheValidChoices()
    {
        var unknown = Assert.Throws<ArgumentException>(() => QwenChatTemplate.Render([("tool", "x")]));
        Assert.Contains("valid: system, user, assistant", unknown.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => QwenChatTemplate.Render([("user", "x")], addGenerationPrompt: true, continueFinalMessage: true));
        Assert.Throws<ArgumentException>(() => QwenChatTemplate.Render([]));
    }
}
