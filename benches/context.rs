//! Criterion benches of the context engine: cold build, warm cache hit and incremental update
//! after one changed scene, at 10, 100, 1,000 and 10,000 scenes.
//!
//! `cargo bench --features bench --bench context` (figures are printed; nothing is asserted).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use editscope::context::{BuildRequest, ContextEngine, EngineOptions, Flags};
use editscope::fixtures::{self, generate};
use editscope::store::Store;

fn project(scenes: usize) -> (tempfile::TempDir, Store, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path().join("bench.db")).expect("open");
    let spec = generate::GenerateSpec {
        project_id: format!("bench-{scenes}"),
        title: "bench".into(),
        user_id: "bench-user".into(),
        scenes,
        seed: 5,
    };
    fixtures::import(&mut store, "bench", &generate::generate_project(&spec)).expect("import");
    (dir, store, spec.project_id)
}

fn options() -> EngineOptions {
    EngineOptions {
        persist_snapshots: false,
        ..EngineOptions::default()
    }
}

fn engine_benches(c: &mut Criterion) {
    for scenes in [10usize, 100, 1_000, 10_000] {
        let (_dir, mut store, id) = project(scenes);
        let request = BuildRequest {
            project_id: &id,
            user_id: None,
            prompt: "make the title blue in scene 2",
        };
        let mut group = c.benchmark_group("context");
        if scenes >= 1_000 {
            group.sample_size(10);
        }
        group.bench_with_input(
            BenchmarkId::new("cold_optimized", scenes),
            &scenes,
            |b, _| {
                b.iter(|| {
                    let mut engine = ContextEngine::new(Flags::OPTIMIZED, options());
                    black_box(engine.build(&store, &request).expect("build"));
                })
            },
        );
        if scenes <= 1_000 {
            group.bench_with_input(BenchmarkId::new("cold_legacy", scenes), &scenes, |b, _| {
                b.iter(|| {
                    let mut engine = ContextEngine::new(Flags::LEGACY, options());
                    black_box(engine.build(&store, &request).expect("build"));
                })
            });
        }
        let mut engine = ContextEngine::new(Flags::OPTIMIZED, options());
        engine.build(&store, &request).expect("warm up");
        group.bench_with_input(BenchmarkId::new("warm_hit", scenes), &scenes, |b, _| {
            b.iter(|| black_box(engine.build(&store, &request).expect("build")))
        });
        let target = store.list_scene_meta(&id).expect("scenes")[scenes / 2]
            .id
            .clone();
        let original = store.get_scene(&target).expect("scene");
        let mut round = 0u64;
        group.bench_with_input(
            BenchmarkId::new("incremental_one_scene", scenes),
            &scenes,
            |b, _| {
                // Only the build is timed, not the write that precedes it.
                b.iter_custom(|iters| {
                    let mut total = std::time::Duration::ZERO;
                    for _ in 0..iters {
                        round += 1;
                        let code = format!("{}\n// edit {round}\n", original.tsx_code);
                        store
                            .write(|w| {
                                w.update_scene_code(&target, &code, original.duration_frames)
                            })
                            .expect("write");
                        let started = std::time::Instant::now();
                        black_box(engine.build(&store, &request).expect("build"));
                        total += started.elapsed();
                    }
                    total
                })
            },
        );
        group.finish();
    }
}

criterion_group!(benches, engine_benches);
criterion_main!(benches);
