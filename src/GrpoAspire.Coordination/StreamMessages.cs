using Google.Protobuf;
using StackExchange.Redis;

namespace GrpoAspire.Coordination;

/// <summary>
/// The entry layout shared by the jobs and rollouts streams: one field, <c>m</c>, holding one protobuf message
/// (see protos/grpo/v1/rollouts.proto).
/// </summary>
internal static class StreamMessages
{
    public const string Field = "m";

    public static NameValueEntry[] Encode(IMessage message) => [new(Field, message.ToByteArray())];

    /// <summary>
    /// Parses the entry's message, or says why it cannot: no <c>m</c> field, bytes that are not the message, or
    /// a message that parses but fails <paramref name="check"/> (protobuf accepts many random byte strings as
    /// messages of unknown fields, so a parse alone proves little).
    /// </summary>
    public static bool TryDecode<T>(StreamEntry entry, MessageParser<T> parser, Func<T, string?> check,
        out T message, out string reason)
        where T : IMessage<T>
    {
        message = default!;
        if (entry.IsNull || entry.Values is null)
        {
            reason = "the entry has no fields (deleted)";
            return false;
        }

        var value = entry[Field];
        if (value.IsNull)
        {
            reason = $"the entry has no '{Field}' field";
            return false;
        }

        try
        {
            message = parser.ParseFrom((byte[])value!);
        }
        catch (InvalidProtocolBufferException e)
        {
            reason = $"field '{Field}' is not a {typeof(T).Name}: {e.Message}";
            return false;
        }

        var problem = check(message);
        if (problem is not null)
        {
            reason = problem;
            return false;
        }

        reason = "";
        return true;
    }

    /// <summary>True for a concrete stream id (<c>ms-seq</c>, or <c>0</c>), which XREAD can resume from.</summary>
    public static bool IsConcreteId(string id)
    {
        var dash = id.IndexOf('-');
        return dash < 0
            ? ulong.TryParse(id, System.Globalization.NumberStyles.None, null, out _)
            : ulong.TryParse(id.AsSpan(0, dash), System.Globalization.NumberStyles.None, null, out _)
              && ulong.TryParse(id.AsSpan(dash + 1), System.Globalization.NumberStyles.None, null, out _);
    }

    /// <summary>True when a Redis error says the consumer group (or its stream) does not exist.</summary>
    public static bool IsNoGroup(RedisServerException e) => e.Message.StartsWith("NOGROUP", StringComparison.Ordinal);
}
