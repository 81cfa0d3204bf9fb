//! Stage 4: store the result in one transaction and summarise it; record failed runs.
//!
//! Every user message the pipeline records is learned from in the transaction that records it
//! (DESIGN.md section 7, [`crate::memory::learn`]): an applied run, a clarification and a
//! failed run alike; only a cancelled run records no message.

use tokio::sync::mpsc::UnboundedSender;

use super::*;
use crate::memory::learn;
use crate::store::{EditRunRecord, Message, Scene, SceneIteration, StoreError, UpsertOutcome};

/// Confidence of a preference the user stated in a request (explicit, so high).
pub const STATED_PREFERENCE_CONFIDENCE: f64 = 0.9;

fn stage_json(result: &EditResult) -> String {
    serde_json::to_string(&result.stages).unwrap_or_else(|_| "[]".into())
}

/// Applies the plan. Sets outcome, summary, run id and memory writes on `result`; on a store
/// failure the run is marked failed and nothing was changed.
pub(crate) fn apply(
    pipeline: &mut Pipeline,
    run: u64,
    project_id: &str,
    request: &str,
    plan: &Plan,
    result: &mut EditResult,
    events: &UnboundedSender<PipelineEvent>,
) {
    let flags_json = serde_json::to_string(&plan.built.stats.flags).unwrap_or_default();
    let cache_json = serde_json::to_string(&serde_json::json!({
        "path": plan.built.stats.path.as_str(),
        "hits": plan.built.stats.cache.hits,
        "misses": plan.built.stats.cache.misses,
        "invalidations": plan.built.stats.cache.invalidations,
        "build_us": plan.built.stats.build_us,
        "shadow_checks": plan.built.stats.cache.shadow_checks,
        "shadow_mismatches": plan.built.stats.cache.shadow_mismatches,
        // The context build's sub-steps, so that a trace export can nest them in its stage.
        "steps": plan.built.stats.steps,
    }))
    .unwrap_or_default();
    let tokens_json = serde_json::to_string(&serde_json::json!({
        "input": plan.usage.input_tokens,
        "cached": plan.usage.cached_input_tokens,
        "output": plan.usage.output_tokens,
        "context": plan.built.context.tokens.total,
        "model_calls": plan.model_calls,
    }))
    .unwrap_or_default();
    let model = plan.model.clone();
    let stages_so_far = stage_json(result);
    let comparison = pipeline.is_comparison();
    let outcome = pipeline.store.write(|w| {
        let now = w.now();
        let (outcome, tool, target, summary) = match &plan.decision {
            ToolDecision::Clarify { question } => {
                (Outcome::Clarification, None, None, question.clone())
            }
            ToolDecision::Tool {
                tool,
                target_scene_id,
                ..
            } => {
                let summary = match tool {
                    Tool::DeleteScene => {
                        let id = target_scene_id.clone().ok_or_else(|| StoreError::Invalid {
                            what: "deleteScene".into(),
                            reason: "no target scene".into(),
                        })?;
                        let removed = w.delete_scene(&id)?;
                        w.add_iteration(&SceneIteration {
                            id: 0,
                            scene_id: id.clone(),
                            project_id: project_id.to_string(),
                            prompt: request.to_string(),
                            operation: tool.as_str().into(),
                            code_before: Some(removed.tsx_code),
                            code_after: None,
                            model: model.clone(),
                            generation_ms: 0,
                            created_at: now,
                        })?;
                        format!("deleted scene \"{}\"", removed.name)
                    }
                    Tool::AddScene => {
                        let edit = plan.edit.as_ref().ok_or_else(|| StoreError::Invalid {
                            what: "addScene".into(),
                            reason: "no code was produced".into(),
                        })?;
                        let ord = w.next_scene_ord(project_id)?;
                        let id = format!("{project_id}-n{now}");
                        let name = edit
                            .scene_name
                            .clone()
                            .unwrap_or_else(|| format!("Scene {ord}"));
                        w.upsert_scene(&Scene {
                            id: id.clone(),
                            project_id: project_id.to_string(),
                            name: name.clone(),
                            ord,
                            tsx_code: edit.code.clone(),
                            duration_frames: edit.duration_frames.unwrap_or(150),
                            props_json: "{}".into(),
                            created_at: now,
                            updated_at: now,
                        })?;
                        w.add_iteration(&SceneIteration {
                            id: 0,
                            scene_id: id.clone(),
                            project_id: project_id.to_string(),
                            prompt: request.to_string(),
                            operation: tool.as_str().into(),
                            code_before: None,
                            code_after: Some(edit.code.clone()),
                            model: model.clone(),
                            generation_ms: 0,
                            created_at: now,
                        })?;
                        result.target_scene_id = Some(id);
                        edit.summary.clone()
                    }
                    _ => {
                        let id = target_scene_id.clone().ok_or_else(|| StoreError::Invalid {
                            what: tool.as_str().into(),
                            reason: "no target scene".into(),
                        })?;
                        let edit = plan.edit.as_ref().ok_or_else(|| StoreError::Invalid {
                            what: tool.as_str().into(),
                            reason: "no code was produced".into(),
                        })?;
                        let before = w
                            .find_scene(&id)?
                            .ok_or_else(|| StoreError::SceneNotFound(id.clone()))?
                            .duration_frames;
                        let duration = edit.duration_frames.unwrap_or(before);
                        let unchanged = plan.target_code_before.as_deref()
                            == Some(edit.code.as_str())
                            && duration == before;
                        // Asked for what is already so: nothing to store, no iteration to undo.
                        if !unchanged {
                            w.update_scene_code(&id, &edit.code, duration)?;
                            w.add_iteration(&SceneIteration {
                                id: 0,
                                scene_id: id.clone(),
                                project_id: project_id.to_string(),
                                prompt: request.to_string(),
                                operation: tool.as_str().into(),
                                code_before: plan.target_code_before.clone(),
                                code_after: Some(edit.code.clone()),
                                model: model.clone(),
                                generation_ms: 0,
                                created_at: now,
                            })?;
                        }
                        edit.summary.clone()
                    }
                };
                let target = result
                    .target_scene_id
                    .clone()
                    .or_else(|| target_scene_id.clone());
                (
                    Outcome::Applied,
                    Some(tool.as_str().to_string()),
                    target,
                    summary,
                )
            }
        };
        let base_ms = now;
        let user_message = format!("{project_id}-u{base_ms}-{run}");
        w.add_message(&user_message_row(
            &user_message,
            project_id,
            request,
            base_ms,
        ))?;
        w.add_message(&Message {
            id: format!("{project_id}-a{base_ms}-{run}"),
            project_id: project_id.to_string(),
            role: "assistant".into(),
            content: summary.clone(),
            image_urls: vec![],
            created_at: base_ms + 1,
        })?;
        let written = learn_recorded(w, project_id, &user_message)?;
        let run_id = w.add_edit_run(&EditRunRecord {
            id: 0,
            project_id: project_id.to_string(),
            prompt: request.to_string(),
            flags_json: flags_json.clone(),
            tool: tool.clone(),
            target_scene_id: target.clone(),
            stage_ms_json: stages_so_far.clone(),
            cache_json: cache_json.clone(),
            tokens_json: tokens_json.clone(),
            outcome: outcome.as_str().into(),
            error: None,
            created_at: now,
            comparison,
        })?;
        Ok((outcome, tool, target, summary, written, run_id))
    });
    match outcome {
        Ok((outcome, tool, target, summary, written, run_id)) => {
            result.outcome = outcome;
            result.tool = tool;
            result.target_scene_id = target;
            result.summary = summary;
            result.run_id = Some(run_id);
            report_learned(run, written, result, events);
        }
        Err(e) => {
            result.outcome = Outcome::Failed;
            result.error = Some(PipelineError::Store(e).to_string());
        }
    }
}

/// What the recorded messages taught memory, in the transaction that records them: the
/// request's own stated preferences at [`STATED_PREFERENCE_CONFIDENCE`], with the request as
/// their source, and anything written by another tool since the context stage learned, at the
/// parser's confidence ([`learn::learn_new`]).
fn learn_recorded(
    w: &mut crate::store::Writer<'_>,
    project_id: &str,
    user_message: &str,
) -> Result<learn::Learned, StoreError> {
    learn::learn_new(
        w,
        project_id,
        Some(learn::Stated {
            message_id: user_message,
            confidence: STATED_PREFERENCE_CONFIDENCE,
        }),
    )
}

/// Reports the preferences a run's messages taught memory: `memory_written` and one
/// `MemoryWrite` event each.
fn report_learned(
    run: u64,
    learned: learn::Learned,
    result: &mut EditResult,
    events: &UnboundedSender<PipelineEvent>,
) {
    for p in learned.preferences {
        let label = match p.outcome {
            UpsertOutcome::Inserted => "inserted",
            UpsertOutcome::Replaced => "replaced",
            UpsertOutcome::KeptExisting => "kept_existing",
        };
        result
            .memory_written
            .push(format!("USER_PREFERENCE/{}", p.key));
        let _ = events.send(PipelineEvent::MemoryWrite {
            run,
            memory_type: "USER_PREFERENCE".into(),
            key: p.key,
            value: p.value,
            outcome: label.into(),
        });
    }
}

/// Whether a failed run was cancelled by the user (its error is [`PipelineError::Cancelled`]).
fn was_cancelled(result: &EditResult) -> bool {
    result.error.as_deref() == Some(PipelineError::Cancelled.to_string().as_str())
}

/// The row of the user's request as a chat message.
fn user_message_row(id: &str, project_id: &str, request: &str, created_at: i64) -> Message {
    Message {
        id: id.to_string(),
        project_id: project_id.to_string(),
        role: "user".into(),
        content: request.to_string(),
        image_urls: vec![],
        created_at,
    }
}

/// Records a failed run (no scene is touched). Returns the run id.
///
/// The user's request is recorded as a message too, and learned from like every recorded
/// message: what a user stated ("I want the brand color #7C3AED everywhere, and make the title
/// red") does not stop being so because the model call failed, and a retry will find it in
/// memory. A cancelled run records no message and learns nothing: the user withdrew the
/// request, and "cancelled; nothing was changed" stays true. No assistant message is recorded:
/// the failure is the run's, in `edit_runs`, not something the editor said.
pub(crate) fn record_failure(
    pipeline: &mut Pipeline,
    project_id: &str,
    request: &str,
    result: &EditResult,
) -> Result<i64, StoreError> {
    let flags_json = serde_json::to_string(&pipeline.engine.flags).unwrap_or_default();
    let stages = stage_json(result);
    let comparison = pipeline.is_comparison();
    let record_message = !was_cancelled(result);
    pipeline.store.write(|w| {
        let now = w.now();
        let run_id = w.add_edit_run(&EditRunRecord {
            id: 0,
            project_id: project_id.to_string(),
            prompt: request.to_string(),
            flags_json,
            tool: result.tool.clone(),
            target_scene_id: result.target_scene_id.clone(),
            stage_ms_json: stages,
            cache_json: "{}".into(),
            tokens_json: serde_json::to_string(&result.tokens).unwrap_or_default(),
            outcome: Outcome::Failed.as_str().into(),
            error: result.error.clone(),
            created_at: now,
            comparison,
        })?;
        if record_message {
            // The run's row id keeps the message id unique without the pipeline's run counter.
            let user_message = format!("{project_id}-u{now}-f{run_id}");
            w.add_message(&user_message_row(&user_message, project_id, request, now))?;
            learn_recorded(w, project_id, &user_message)?;
        }
        Ok(run_id)
    })
}

/// Restores a scene's code from before its last iteration, as a new iteration.
pub fn undo(
    store: &mut crate::store::Store,
    project_id: &str,
    scene_id: &str,
) -> Result<String, StoreError> {
    let iterations = store.list_iterations(scene_id)?;
    // The last change, whatever it was (an undo of an undo restores the undone change).
    let last = iterations
        .last()
        .ok_or_else(|| StoreError::Invalid {
            what: format!("undo of scene '{scene_id}'"),
            reason: "the scene has no recorded change".into(),
        })?
        .clone();
    let Some(previous) = last.code_before.clone() else {
        return Err(StoreError::Invalid {
            what: format!("undo of scene '{scene_id}'"),
            reason: "its last change created it; delete it instead".into(),
        });
    };
    let scene = store.get_scene(scene_id)?;
    if scene.project_id != project_id {
        return Err(StoreError::SceneNotFound(scene_id.to_string()));
    }
    let duration = crate::analysis::analyse(&previous)
        .duration_frames
        .unwrap_or(scene.duration_frames);
    store.write(|w| {
        let now = w.now();
        w.update_scene_code(scene_id, &previous, duration)?;
        w.add_iteration(&SceneIteration {
            id: 0,
            scene_id: scene_id.to_string(),
            project_id: project_id.to_string(),
            prompt: format!("undo: {}", last.prompt),
            operation: "undo".into(),
            code_before: Some(scene.tsx_code.clone()),
            code_after: Some(previous.clone()),
            model: "editscope".into(),
            generation_ms: 0,
            created_at: now,
        })?;
        Ok(format!(
            "restored scene '{scene_id}' to before \"{}\"",
            last.prompt
        ))
    })
}
