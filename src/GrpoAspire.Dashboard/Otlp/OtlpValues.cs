using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Collections;
using GrpoAspire.Dashboard.Otlp.Protocol;
using GrpoAspire.Dashboard.Telemetry;

namespace GrpoAspire.Dashboard.Otlp;

/// <summary>
/// OTLP values to bounded display strings: attribute maps keep at most a number of entries, every key and
/// value is cut to a length, and nested arrays and maps are written to a fixed depth, so what a sender puts
/// in one message cannot cost more than the limits to keep or to render.
/// </summary>
internal sealed class OtlpValues(int maxLength, int maxAttributes)
{
    public const string UnknownService = "unknown_service";
    private const int MaxDepth = 4;

    /// <summary>The resource's <c>service.name</c>, as the OpenTelemetry SDKs set it from <c>OTEL_SERVICE_NAME</c>.</summary>
    public string ServiceName(Resource? resource)
    {
        var value = resource?.Attributes.FirstOrDefault(attribute => attribute.Key == "service.name")?.Value;
        return value is { ValueCase: AnyValue.ValueOneofCase.StringValue, StringValue.Length: > 0 }
            ? BoundedText.Cut(value.StringValue, maxLength)
            : UnknownService;
    }

    public IReadOnlyDictionary<string, string> Attributes(RepeatedField<KeyValue> attributes)
    {
        if (attributes.Count == 0 || maxAttributes == 0)
        {
            return EmptyAttributes.Instance;
        }

        var result = new Dictionary<string, string>(Math.Min(attributes.Count, maxAttributes), StringComparer.Ordinal);
        foreach (var attribute in attributes)
        {
            if (result.Count == maxAttributes)
            {
                break;
            }

            result[BoundedText.Cut(attribute.Key, maxLength)] = Display(attribute.Value);
        }

        return result;
    }

    /// <summary>A value as text: strings as they are, numbers invariant, bytes as base64, lists and maps JSON-like.</summary>
    public string Display(AnyValue? value)
    {
        if (value is null)
        {
            return string.Empty;
        }

        if (value.ValueCase == AnyValue.ValueOneofCase.StringValue)
        {
            return BoundedText.Cut(value.StringValue, maxLength);
        }

        var builder = new StringBuilder();
        Write(builder, value, 0);
        return BoundedText.Cut(builder.ToString(), maxLength);
    }

    private void Write(StringBuilder builder, AnyValue value, int depth)
    {
        // Stop early: the result is cut to maxLength anyway, this bounds the work on a huge nested value.
        if (builder.Length > maxLength)
        {
            return;
        }

        switch (value.ValueCase)
        {
            case AnyValue.ValueOneofCase.StringValue:
                builder.Append(BoundedText.Cut(value.StringValue, maxLength));
                break;
            case AnyValue.ValueOneofCase.BoolValue:
                builder.Append(value.BoolValue ? "true" : "false");
                break;
            case AnyValue.ValueOneofCase.IntValue:
                builder.Append(value.IntValue.ToString(CultureInfo.InvariantCulture));
                break;
            case AnyValue.ValueOneofCase.DoubleValue:
                builder.Append(value.DoubleValue.ToString("R", CultureInfo.InvariantCulture));
                break;
            case AnyValue.ValueOneofCase.BytesValue:
                builder.Append(ToBase64(value.BytesValue));
                break;
            case AnyValue.ValueOneofCase.ArrayValue when depth >= MaxDepth:
            case AnyValue.ValueOneofCase.KvlistValue when depth >= MaxDepth:
                builder.Append(BoundedText.Ellipsis);
                break;
            case AnyValue.ValueOneofCase.ArrayValue:
                builder.Append('[');
                for (var i = 0; i < value.ArrayValue.Values.Count && builder.Length <= maxLength; i++)
                {
                    builder.Append(i == 0 ? string.Empty : ", ");
                    Write(builder, value.ArrayValue.Values[i], depth + 1);
                }

                builder.Append(']');
                break;
            case AnyValue.ValueOneofCase.KvlistValue:
                builder.Append('{');
                for (var i = 0; i < value.KvlistValue.Values.Count && builder.Length <= maxLength; i++)
                {
                    var entry = value.KvlistValue.Values[i];
                    builder.Append(i == 0 ? string.Empty : ", ").Append(BoundedText.Cut(entry.Key, maxLength)).Append(": ");
                    if (entry.Value is not null)
                    {
                        Write(builder, entry.Value, depth + 1);
                    }
                }

                builder.Append('}');
                break;
        }
    }

    private string ToBase64(ByteString bytes)
    {
        // 3 bytes per 4 characters: never encode more than can be shown.
        var take = Math.Min(bytes.Length, (maxLength / 4 * 3) + 3);
        return Convert.ToBase64String(bytes.Span[..take]);
    }

    /// <summary>Lowercase hex of an id, or null when it is empty or all zeroes (OTLP's "no id").</summary>
    public static string? Id(ByteString bytes)
    {
        if (bytes.IsEmpty || !bytes.Span.ContainsAnyExcept((byte)0))
        {
            return null;
        }

        return Convert.ToHexStringLower(bytes.Span);
    }
}
