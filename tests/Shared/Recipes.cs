namespace GrpoAspire.Testing;

/// <summary>Recipes of the end-to-end runs: a tiny random model, generated tasks, a few steps on the CPU.</summary>
internal static class Recipes
{
    public static string Tiny(int maxSteps, int saveSteps, int completionTokens = 16, int prompts = 4, int generations = 4) => $"""
        model_name_or_path: random:tiny
        device: cpu
        dataset_id_or_path: generate
        max_tasks: 200
        eval_tasks: 20
        max_steps: {maxSteps}
        per_device_train_batch_size: {prompts}
        gradient_accumulation_steps: 1
        num_generations: {generations}
        max_prompt_length: 256
        max_completion_length: {completionTokens}
        learning_rate: 1.0e-3
        lr_scheduler_type: constant
        beta: 0.04
        logging_steps: 1
        save_strategy: steps
        save_steps: {saveSteps}
        seed: 7
        """;

    /// <summary>
    /// The embedded countdown-tiny warm start on three-number tasks (its compact prompt), which solves about half of them:
    /// rewards vary within groups, so every step moves the policy.
    /// </summary>
    public static string CountdownTiny(int maxSteps, int maxStaleness) => $"""
        model_name_or_path: countdown-tiny
        device: cpu
        dataset_id_or_path: generate
        max_tasks: 200
        max_task_numbers: 3
        prompt_template: compact
        max_steps: {maxSteps}
        max_staleness: {maxStaleness}
        per_device_train_batch_size: 4
        gradient_accumulation_steps: 1
        num_generations: 8
        max_prompt_length: 128
        max_completion_length: 160
        learning_rate: 1.0e-4
        lr_scheduler_type: constant
        beta: 0.0
        loss_type: bnpo
        save_strategy: steps
        save_steps: {maxSteps}
        seed: 7
        """;
}
