using System.Reflection;

namespace GrpoAspire.Grpo.Recipes;

/// <summary>One recipe key as declared on <see cref="GrpoRecipe"/>: name, type, default, valid values and help.</summary>
internal sealed class RecipeKey
{
    private readonly ValueKind _kind;

    public RecipeKey(PropertyInfo property, RecipeKeyAttribute declaration, GrpoRecipe defaults)
    {
        if (property.SetMethod is null)
        {
            throw new InvalidOperationException($"recipe key {declaration.Name}: {property.Name} has no init accessor");
        }

        Property = property;
        Name = declaration.Name;
        Help = declaration.Help;
        _kind = RecipeValueKinds.For(property.PropertyType, declaration);
        Default = Format(defaults);
    }

    public string Name { get; }

    public PropertyInfo Property { get; }

    public string Type => _kind.Type;

    /// <summary>The range (<c>[1, 64]</c>) or the valid values; empty for free text.</summary>
    public string Values => _kind.Values;

    public string Help { get; }

    /// <summary>The default as a recipe would write it: the property's initializer in <see cref="GrpoRecipe"/>.</summary>
    public string Default { get; }

    /// <summary>The key's value in <paramref name="recipe"/> as a recipe would write it.</summary>
    public string Format(GrpoRecipe recipe) => _kind.Format(Property.GetValue(recipe));

    /// <summary>The recipe with this key set from <paramref name="value"/>, or the key's error.</summary>
    public GrpoRecipe Set(GrpoRecipe recipe, RecipeValue value)
    {
        var parsed = _kind.Parse(value, Property.GetValue(recipe));

        // Through the init accessor on a fresh copy: nobody else holds the copy yet, so records stay immutable to their readers.
        var copy = recipe with { };
        Property.SetValue(copy, parsed);
        return copy;
    }
}

/// <summary>Every recipe key, read once from the <see cref="RecipeKeyAttribute"/> declarations, in declaration order.</summary>
internal static class RecipeKeys
{
    public static IReadOnlyList<RecipeKey> All { get; } = Declared();

    private static readonly Dictionary<string, RecipeKey> ByName = All.ToDictionary(k => k.Name, StringComparer.Ordinal);

    public static RecipeKey? Find(string name) => ByName.GetValueOrDefault(name);

    private static RecipeKey[] Declared()
    {
        var defaults = new GrpoRecipe();
        return typeof(GrpoRecipe).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .OrderBy(p => p.MetadataToken)
            .SelectMany(p => p.GetCustomAttributes<RecipeKeyAttribute>().Select(a => new RecipeKey(p, a, defaults)))
            .ToArray();
    }
}
