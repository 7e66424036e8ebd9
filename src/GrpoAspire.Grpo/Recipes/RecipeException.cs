namespace GrpoAspire.Grpo.Recipes;

/// <summary>A recipe that cannot be used; the message names the key and what is valid.</summary>
public sealed class RecipeException(string message) : Exception(message);
