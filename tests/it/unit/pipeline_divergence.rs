//! Where two prompts of one stage first differ: the token offset and the section.

use editscope::context::tokens;
use editscope::llm::ChatPrompt;
use editscope::pipeline::Stage;
use editscope::pipeline::divergence::divergence;

fn prompt(scene_3: &str, request: &str) -> ChatPrompt {
    ChatPrompt {
        system: "You are the tool selector.".into(),
        stable_prefix: format!(
            "## project\nProject: Acme (acme), 3 scenes\n## preferences\n- tone: playful\n\
             ## scene_list\n1. Intro (90 frames)\n2. Logo (120 frames)\n3. {scene_3}\n\
             ## images\n1. hero.png\n"
        ),
        variable: format!("## conversation\nuser: hi\n## request\n{request}\n"),
    }
}

#[test]
fn a_difference_in_the_scene_list_is_found_at_the_tokens_before_its_line() {
    let a = prompt("Outro (60 frames)", "make it blue");
    let b = prompt("Finale (60 frames)", "make it blue");
    let found = divergence(Stage::ToolSelection, &a, &b).unwrap();
    assert_eq!(found.section, "scene_list");
    assert_eq!(found.stage, Stage::ToolSelection);
    // Everything up to the changed line is shared: the system prompt and the lines before it.
    let shared_text = &a.stable_prefix[..a.stable_prefix.find("3. ").unwrap()];
    assert_eq!(
        found.token,
        tokens::count(&a.system) + tokens::count(shared_text)
    );
}

#[test]
fn the_request_the_system_and_nothing_are_told_apart() {
    let a = prompt("Outro (60 frames)", "make it blue");
    assert_eq!(divergence(Stage::CodeEdit, &a, &a.clone()), None);
    let other_request = prompt("Outro (60 frames)", "make it red");
    let found = divergence(Stage::CodeEdit, &a, &other_request).unwrap();
    assert_eq!(found.section, "request");
    assert!(found.token > tokens::count(&a.system) + tokens::count(&a.stable_prefix));
    let mut other_system = a.clone();
    other_system.system = "You are the editor.".into();
    let found = divergence(Stage::CodeEdit, &a, &other_system).unwrap();
    assert_eq!((found.section.as_str(), found.token), ("system", 0));
}

#[test]
fn a_new_section_header_names_that_section() {
    let a = prompt("Outro (60 frames)", "make it blue");
    let mut b = a.clone();
    b.stable_prefix = b.stable_prefix.replace(
        "## images\n",
        "## relationships\n- 1->2: leads into\n## images\n",
    );
    let found = divergence(Stage::ToolSelection, &a, &b).unwrap();
    assert_eq!(found.section, "relationships");
}
