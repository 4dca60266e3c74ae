//! The parts of the benchmark, in order, each printed as a step line.

use std::process::Command;

use anyhow::{Context, bail};

use crate::Cli;
use crate::ceiling::{describe, parallel_commits_per_second, storage_commits_per_second};
use crate::chart::Point;
use crate::data::{GROWTH_TARGET, Layout, SHOP_APP, SPREAD_TEAMS};
use crate::database::Database;
use crate::load::{Prepared, Run, client_and_raw_ms, drive, http_client};
use crate::process::{Server, measure};
use crate::profile::Profiler;
use crate::report::Figure;
use crate::scale::Scale;
use crate::stats::Spread;
use crate::tooling::{COMMANDS, Tools};

/// The steps, in order.
const STEPS: [&str; 10] =
    ["data", "throughput", "profile", "metrics", "growth", "sizes", "client", "stop", "tooling", "rebuild"];

/// Percentiles reported for each run.
const PERCENTILES: [(&str, f64); 3] = [("p50", 50.0), ("p99", 99.0), ("p99.9", 99.9)];

/// The concurrency whose throughput and p99 have targets.
const TARGET_CONCURRENCY: usize = 8;

/// Everything measured.
pub struct Outcome {
    /// Every figure, in report order.
    pub figures: Vec<Figure>,
    /// The chart's points.
    pub chart: Vec<Point>,
    /// The storage ceiling.
    pub storage: Spread,
}

fn step(name: &str) {
    let index = STEPS.iter().position(|s| *s == name).expect("a known step") + 1;
    println!("==> bench [{index}/{}] {name}", STEPS.len());
}

/// Runs every step.
pub fn run_all(cli: &Cli, scale: &Scale, database: &Database) -> anyhow::Result<Outcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting tokio")?;
    let layout = Layout::new(scale.targets, scale.sizes, scale.reps);
    step("data");
    runtime.block_on(database.recreate())?;
    seed(cli, &layout, database.location())?;
    let server = Server::start(&cli.server, database.location())?;
    let measured = runtime.block_on(against_server(cli, &server, scale, &layout, database));
    step("stop");
    let stopped = server.stop();
    let mut outcome = measured?;
    stopped?;
    let tools =
        Tools { root: cli.root.clone(), xtask: cli.xtask.clone(), check: cli.check.clone(), cargo: cli.cargo.clone() };
    step("tooling");
    if matches!(database, Database::Postgres { .. }) {
        println!("(independent of the database: measured by the SQLite run)");
        return Ok(outcome);
    }
    outcome.figures.extend(tooling(&tools, scale.tooling_reps)?);
    outcome.figures.extend(spec_scale(&tools)?);
    step("rebuild");
    if scale.rebuild_reps == 0 {
        println!("(not measured in --quick)");
    } else {
        outcome.figures.extend(rebuild(&tools, scale.rebuild_reps)?);
    }
    Ok(outcome)
}

/// Loads the benchmark's fixture into the (empty) database.
fn seed(cli: &Cli, layout: &Layout, location: &str) -> anyhow::Result<()> {
    let fixture = cli.out.join("bench-fixture.yaml");
    layout.write_fixture(&fixture)?;
    let status = Command::new(&cli.server)
        .arg("seed")
        .arg(&fixture)
        .args(["--database", location])
        .stdout(std::process::Stdio::null())
        .status()
        .context("running rainbond-server seed")?;
    if !status.success() {
        bail!("loading {} failed ({status})", fixture.display());
    }
    Ok(())
}

async fn against_server(
    cli: &Cli,
    server: &Server,
    scale: &Scale,
    layout: &Layout,
    database: &Database,
) -> anyhow::Result<Outcome> {
    step("throughput");
    // Every instance count's runs interleave within each repetition, so the extra instances run
    // (idle while fewer are measured) for the whole step.
    let most = database.instance_counts().iter().copied().max().unwrap_or(1);
    let extra =
        (1..most).map(|_| Server::start(&cli.server, database.location())).collect::<anyhow::Result<Vec<_>>>()?;
    let urls: Vec<&str> = std::iter::once(server.url.as_str()).chain(extra.iter().map(|s| s.url.as_str())).collect();
    let measured = throughput(&urls, scale, layout, database).await;
    for instance in extra {
        instance.stop()?;
    }
    let (mut figures, chart, storage) = measured?;
    step("profile");
    profile(cli, server, scale, layout, database).await?;
    step("metrics");
    figures.push(metrics_cost(cli, server, scale, layout, database).await?);
    let rss = Spread::of(&[server.peak_rss_mib()?]);
    figures.push(
        Figure::new("memory", "server peak RSS during the throughput runs", "MiB", rss).share_of(64.0).at_most(64.0),
    );
    step("growth");
    figures.extend(growth(&server.url, scale).await?);
    step("sizes");
    figures.extend(sizes(&server.url, layout).await?);
    step("client");
    figures.extend(client(&server.url, scale).await?);
    Ok(Outcome { figures, chart, storage })
}

/// The copy and `/healthz` runs of one concurrency on one set of instances.
#[derive(Default, Clone)]
struct Runs {
    copies: Vec<Run>,
    health: Vec<Run>,
}

/// Copies and `/healthz` at each concurrency on each number of instances (requests spread round
/// robin over the first `n` of `urls`), and the storage ceiling, interleaved per repetition. The
/// chart shows the one-instance runs.
async fn throughput(
    urls: &[&str],
    scale: &Scale,
    layout: &Layout,
    database: &Database,
) -> anyhow::Result<(Vec<Figure>, Vec<Point>, Spread)> {
    let http = http_client()?;
    let counts = database.instance_counts();
    let mut ceiling = Vec::new();
    let mut parallel_ceiling = Vec::new();
    let mut runs = vec![vec![Runs::default(); scale.throughput.len()]; counts.len()];
    let mut spread = vec![Vec::new(); counts.len()];
    let spread_count = target_concurrency_count(scale);
    for rep in 0..scale.reps {
        ceiling.push(storage_commits_per_second(database, scale.ceiling_commits).await?);
        if let Database::Postgres { location, .. } = database {
            let rate = parallel_commits_per_second(location, scale.ceiling_commits, TARGET_CONCURRENCY).await?;
            println!("rep {}: storage ceiling at {TARGET_CONCURRENCY} connections {rate:.0} commits/s", rep + 1);
            parallel_ceiling.push(rate);
            for (&instances, spread) in counts.iter().zip(&mut spread) {
                let bases = &urls[..instances];
                let copies: Vec<Prepared> = (layout.spread_targets.iter().enumerate())
                    .map(|(i, (team, target))| Prepared::copy_into(bases[i % instances], SHOP_APP, team, *target))
                    .collect();
                let run = drive(&http, &copies, spread_count, TARGET_CONCURRENCY).await;
                println!(
                    "rep {}: {} c={TARGET_CONCURRENCY} over {SPREAD_TEAMS} teams {:>7.0} copies/s (p99 {:.1} ms, {} errors)",
                    rep + 1,
                    instances_label(instances),
                    run.rate(),
                    run.percentile_ms(99.0),
                    run.errors
                );
                report_errors(&run, "spread copy");
                spread.push(run);
            }
        }
        for (index, &(concurrency, count)) in scale.throughput.iter().enumerate() {
            for (&instances, runs) in counts.iter().zip(&mut runs) {
                let bases = &urls[..instances];
                let copies: Vec<Prepared> = (layout.throughput_targets.iter().enumerate())
                    .map(|(i, &target)| Prepared::copy(bases[i % instances], SHOP_APP, target))
                    .collect();
                let health: Vec<Prepared> = bases.iter().map(|base| Prepared::health(base)).collect();
                let health_run = drive(&http, &health, count, concurrency).await;
                let copy_run = drive(&http, &copies, count, concurrency).await;
                println!(
                    "rep {}: {} c={concurrency:<3} {:>7.0} copies/s (p99 {:.1} ms, {} errors), /healthz {:>7.0}/s",
                    rep + 1,
                    instances_label(instances),
                    copy_run.rate(),
                    copy_run.percentile_ms(99.0),
                    copy_run.errors,
                    health_run.rate()
                );
                report_errors(&copy_run, "copy");
                runs[index].copies.push(copy_run);
                runs[index].health.push(health_run);
            }
        }
        println!("rep {}: storage ceiling {:.0} commits/s", rep + 1, ceiling[rep]);
    }
    let storage = Spread::of(&ceiling);
    let mut figures = vec![Figure::new("ceiling", describe(database).await?, "/s", storage)];
    if !parallel_ceiling.is_empty() {
        figures.extend(spread_figures(counts, &spread, Spread::of(&parallel_ceiling)));
    }
    let mut chart = Vec::new();
    let goals = Goals::of(database);
    for (&instances, runs) in counts.iter().zip(&runs) {
        for (&(concurrency, _), runs) in scale.throughput.iter().zip(runs) {
            let (more, point) = concurrency_figures(concurrency, instances, runs, storage, &goals);
            figures.extend(more);
            if instances == 1 {
                chart.push(point);
            }
        }
    }
    Ok((figures, chart, storage))
}

/// `1 instance`, `2 instances`.
fn instances_label(instances: usize) -> String {
    format!("{instances} instance{}", if instances == 1 { "" } else { "s" })
}

fn report_errors(run: &Run, what: &str) {
    if let Some(error) = &run.first_error {
        eprintln!("warning: {} of {} {what} requests failed; the first: {error}", run.errors, run.requests);
    }
}

/// The request count of the throughput runs at [`TARGET_CONCURRENCY`].
fn target_concurrency_count(scale: &Scale) -> usize {
    scale.throughput.iter().find(|(concurrency, _)| *concurrency == TARGET_CONCURRENCY).map_or(0, |(_, count)| *count)
}

/// The goals of the copy figures, by backend: on PostgreSQL a copy is several round trips across
/// the network, and copies into one app take turns under its lock, so their storage goal is lower.
struct Goals {
    /// Copies/s at [`TARGET_CONCURRENCY`] as a share of the one-connection storage ceiling.
    storage_share: f64,
    /// p99 at [`TARGET_CONCURRENCY`], ms.
    p99_ms: f64,
    /// p99 at concurrency 1, ms (none on PostgreSQL).
    serial_p99_ms: Option<f64>,
}

impl Goals {
    fn of(database: &Database) -> Goals {
        match database {
            Database::Sqlite { .. } => Goals { storage_share: 0.6, p99_ms: 20.0, serial_p99_ms: Some(5.0) },
            Database::Postgres { .. } => Goals { storage_share: 0.4, p99_ms: 30.0, serial_p99_ms: None },
        }
    }
}

/// The PostgreSQL ceiling at [`TARGET_CONCURRENCY`] connections, and the copies spread over
/// [`SPREAD_TEAMS`] teams on each number of instances, against it and against one instance.
fn spread_figures(counts: &[usize], spread: &[Vec<Run>], parallel: Spread) -> Vec<Figure> {
    let name = format!("storage: one-row commits/s, {TARGET_CONCURRENCY} connections at once (PostgreSQL)");
    let mut figures = vec![Figure::new("ceiling", name, "/s", parallel)];
    let mut one_instance = None;
    for (&instances, runs) in counts.iter().zip(spread) {
        let c = format!("c={TARGET_CONCURRENCY} over {SPREAD_TEAMS} teams, {}", instances_label(instances));
        let rate = Spread::over(runs, Run::rate);
        let mut figure = Figure::new("spread", format!("3-component copies/s, {c}"), "/s", rate)
            .ratio_to(format!("storage ceiling at {TARGET_CONCURRENCY} connections"), parallel);
        if let Some(one) = one_instance {
            figure = figure.ratio_to("1 instance", one);
        } else {
            one_instance = Some(rate);
        }
        figures.push(figure);
        figures.push(Figure::new(
            "spread",
            format!("p99 latency, {c}"),
            "ms",
            Spread::over(runs, |run| run.percentile_ms(99.0)),
        ));
        let errors = Spread::over(runs, |run| run.errors as f64);
        figures.push(Figure::new("spread", format!("errors, {c}"), "", errors).at_most(0.0));
    }
    figures
}

/// One more run of copies at [`TARGET_CONCURRENCY`] on one instance, with the whole machine
/// profiled; the summary goes next to the report (`profile-c8-BACKEND.txt`).
async fn profile(
    cli: &Cli,
    server: &Server,
    scale: &Scale,
    layout: &Layout,
    database: &Database,
) -> anyhow::Result<()> {
    let name = format!("profile-c{TARGET_CONCURRENCY}-{}", database.backend());
    let Some(profiler) = Profiler::start(&cli.out.join(format!("{name}.data"))) else { return Ok(()) };
    let copies: Vec<Prepared> =
        layout.throughput_targets.iter().map(|&target| Prepared::copy(&server.url, SHOP_APP, target)).collect();
    let run = drive(&http_client()?, &copies, target_concurrency_count(scale), TARGET_CONCURRENCY).await;
    report_errors(&run, "profiled copy");
    let summary = cli.report.with_file_name(format!("{name}.txt"));
    let title = format!(
        "CPU profile of {} 3-component copies at c={TARGET_CONCURRENCY} ({}, 1 instance, {} build): {:.0} copies/s, \
         p99 {:.1} ms, all CPUs sampled at {} Hz",
        run.requests,
        database.backend(),
        cli.profile,
        run.rate(),
        run.percentile_ms(99.0),
        crate::profile::FREQUENCY
    );
    profiler.finish(&summary, &title, server.pid())?;
    println!("profile: {}", summary.display());
    Ok(())
}

/// What recording metrics costs: copies/s at c=8 on the server against the same on a second
/// instance started with `--no-metrics` on the same database, alternated in each repetition.
async fn metrics_cost(
    cli: &Cli,
    server: &Server,
    scale: &Scale,
    layout: &Layout,
    database: &Database,
) -> anyhow::Result<Figure> {
    let unrecorded = Server::start_with(&cli.server, database.location(), &["--no-metrics"])?;
    let http = http_client()?;
    let copies_on = |base: &str| -> Vec<Prepared> {
        layout.throughput_targets.iter().map(|&target| Prepared::copy(base, SHOP_APP, target)).collect()
    };
    let (with, without) = (copies_on(&server.url), copies_on(&unrecorded.url));
    let (mut recorded_runs, mut unrecorded_runs) = (Vec::new(), Vec::new());
    for rep in 0..scale.reps {
        let off = drive(&http, &without, target_concurrency_count(scale), TARGET_CONCURRENCY).await;
        let on = drive(&http, &with, target_concurrency_count(scale), TARGET_CONCURRENCY).await;
        println!(
            "rep {}: c={TARGET_CONCURRENCY} {:>7.0} copies/s with metrics, {:>7.0} without",
            rep + 1,
            on.rate(),
            off.rate()
        );
        report_errors(&on, "copy with metrics");
        report_errors(&off, "copy without metrics");
        recorded_runs.push(on);
        unrecorded_runs.push(off);
    }
    unrecorded.stop()?;
    let name = format!("3-component copies/s with metrics recorded, c={TARGET_CONCURRENCY}, 1 instance");
    Ok(Figure::new("copy", name, "/s", Spread::over(&recorded_runs, Run::rate))
        .ratio_to("the same without metrics (--no-metrics)", Spread::over(&unrecorded_runs, Run::rate)))
}

fn concurrency_figures(
    concurrency: usize,
    instances: usize,
    runs: &Runs,
    storage: Spread,
    goals: &Goals,
) -> (Vec<Figure>, Point) {
    let (copies, health) = (&runs.copies, &runs.health);
    let c = format!("{concurrency}, {}", instances_label(instances));
    let health_rate = Spread::over(health, Run::rate);
    let copy_rate = Spread::over(copies, Run::rate);
    let mut figures = vec![Figure::new("ceiling", format!("HTTP: /healthz requests/s, c={c}"), "/s", health_rate)];
    let mut rate = Figure::new("copy", format!("3-component copies/s, c={c}"), "/s", copy_rate)
        .ratio_to("HTTP ceiling", health_rate)
        .ratio_to("storage ceiling", storage);
    if concurrency == TARGET_CONCURRENCY {
        rate = rate.ratio_at_least(goals.storage_share);
    }
    figures.push(rate);
    let mut latency_ms = [0.0; 3];
    for (index, (name, p)) in PERCENTILES.into_iter().enumerate() {
        let copy = Spread::over(copies, |run| run.percentile_ms(p));
        let baseline = Spread::over(health, |run| run.percentile_ms(p));
        let mut figure = Figure::new("copy", format!("{name} latency, c={c}"), "ms", copy)
            .ratio_to(format!("/healthz {name}"), baseline);
        if concurrency == TARGET_CONCURRENCY && name == "p99" {
            figure = figure.at_most(goals.p99_ms);
        }
        if let (1, "p99", Some(limit)) = (concurrency, name, goals.serial_p99_ms) {
            figure = figure.at_most(limit);
        }
        latency_ms[index] = copy.median;
        figures.push(figure);
    }
    let errors = Spread::over(copies, |run| run.errors as f64);
    let mut errors = Figure::new("copy", format!("errors, c={c}"), "", errors);
    if concurrency == 64 {
        errors = errors.at_most(0.0);
    }
    figures.push(errors);
    (figures, Point { concurrency, copies: copy_rate, health: health_rate, latency_ms })
}

/// Copies/s and p99 of copies into one app after more and more earlier copies into it.
async fn growth(base: &str, scale: &Scale) -> anyhow::Result<Vec<Figure>> {
    let http = http_client()?;
    let copy = [Prepared::copy(base, SHOP_APP, GROWTH_TARGET)];
    let mut done = 0;
    let mut errors = 0;
    let mut marks: Vec<(usize, Spread, Spread)> = Vec::new();
    for mark in scale.growth_marks {
        if mark > done {
            let fill = drive(&http, &copy, mark - done, scale.growth_fill_concurrency).await;
            report_errors(&fill, "growth fill");
            errors += fill.errors;
            done = mark;
        }
        let mut windows = Vec::new();
        for _ in 0..scale.reps {
            let window = drive(&http, &copy, scale.growth_window, 1).await;
            report_errors(&window, "growth");
            errors += window.errors;
            done += window.requests;
            windows.push(window);
        }
        let rate = Spread::over(&windows, Run::rate);
        let p99 = Spread::over(&windows, |run| run.percentile_ms(99.0));
        println!("after {mark:>6} copies: {:.0} copies/s, p99 {:.1} ms", rate.median, p99.median);
        marks.push((mark, rate, p99));
    }
    let (_, first_rate, first_p99) = marks[0];
    let mut figures = Vec::new();
    for (index, (mark, rate, p99)) in marks.into_iter().enumerate() {
        let mut rate = Figure::new("growth", format!("copies/s after {mark} copies into the app"), "/s", rate)
            .ratio_to(format!("after {}", scale.growth_marks[0]), first_rate);
        let mut p99 = Figure::new("growth", format!("p99 after {mark} copies into the app"), "ms", p99)
            .ratio_to(format!("after {}", scale.growth_marks[0]), first_p99);
        if index > 0 {
            rate = rate.ratio_at_least(0.8);
            p99 = p99.ratio_at_most(1.25);
        }
        figures.extend([rate, p99]);
    }
    figures.push(Figure::new("growth", "errors", "", Spread::of(&[errors as f64])).at_most(0.0));
    Ok(figures)
}

/// The time of one copy of apps of each size, and per component.
async fn sizes(base: &str, layout: &Layout) -> anyhow::Result<Vec<Figure>> {
    let http = http_client()?;
    let mut per_size = Vec::new();
    for (size, source, targets) in &layout.sizes {
        let mut times = Vec::new();
        for &target in targets {
            let run = drive(&http, &[Prepared::copy(base, *source, target)], 1, 1).await;
            if let Some(error) = run.first_error {
                bail!("copying the {size}-component app failed: {error}");
            }
            times.push(run.percentile_ms(50.0));
        }
        let total = Spread::of(&times);
        println!("{size:>5} components: {:.1} ms", total.median);
        per_size.push((*size, total, Spread::over(&times, |ms| ms / *size as f64)));
    }
    let baseline = per_size.iter().find(|(size, ..)| *size == 10).map(|(_, _, per)| *per);
    let mut figures = Vec::new();
    for (size, total, per_component) in per_size {
        let mut total = Figure::new("size", format!("copy of a {size}-component app"), "ms", total);
        let mut per = Figure::new("size", format!("per component, {size}-component app"), "ms", per_component);
        if let Some(baseline) = baseline {
            per = per.ratio_to("10-component app", baseline);
        }
        if size == 1000 {
            total = total.share_of(150.0).at_most(150.0);
            per = per.ratio_at_most(1.5);
        }
        figures.extend([total, per]);
    }
    Ok(figures)
}

/// The generated client's time per request against raw reqwest.
async fn client(base: &str, scale: &Scale) -> anyhow::Result<Vec<Figure>> {
    let mut pairs = Vec::new();
    for _ in 0..scale.reps {
        pairs.push(client_and_raw_ms(base, scale.client_requests).await?);
    }
    let generated = Spread::over(&pairs, |(generated, _)| *generated);
    let raw = Spread::over(&pairs, |(_, raw)| *raw);
    Ok(vec![
        Figure::new("client", "raw reqwest, listing request", "ms", raw),
        Figure::new("client", "generated client, listing request", "ms", generated)
            .ratio_to("raw reqwest", raw)
            .ratio_at_most(1.10),
    ])
}

/// Wall time and peak memory of codegen and the checks.
fn tooling(tools: &Tools, reps: usize) -> anyhow::Result<Vec<Figure>> {
    let mut figures = Vec::new();
    for command in &COMMANDS {
        let runs = (0..reps).map(|_| tools.measure(command)).collect::<anyhow::Result<Vec<_>>>()?;
        let wall = Spread::over(&runs, |run| run.wall.as_secs_f64() * 1000.0);
        println!("{:<18} {:>7.0} ms", command.name, wall.median);
        let mut figure = Figure::new("tooling", format!("{} wall time", command.name), "ms", wall);
        figure = match command.name {
            "codegen --check" | "check" => figure.share_of(300.0).at_most(300.0),
            "diff --base HEAD" => figure.share_of(2000.0).at_most(2000.0),
            _ => figure,
        };
        figures.push(figure);
        if matches!(command.name, "check" | "diff --base HEAD") {
            let rss = Spread::over(&runs, |run| run.peak_rss_mib);
            figures.push(Figure::new("memory", format!("{} peak RSS", command.name), "MiB", rss));
        }
    }
    Ok(figures)
}

/// A spec of 200 operations and 401 schemas: its generate time and its API crate's build time.
fn spec_scale(tools: &Tools) -> anyhow::Result<Vec<Figure>> {
    let (generate, build) = tools.scale_seconds()?;
    println!("200-operation spec: generated in {generate:.2} s, API crate built in {build:.1} s");
    let once = |seconds: f64| Spread::of(&[seconds]);
    Ok(vec![
        Figure::new("tooling", "generate a spec of 200 operations and 401 schemas", "s", once(generate)).at_most(10.0),
        Figure::new("tooling", "build the API crate of that spec (dependencies built)", "s", once(build)),
    ])
}

/// Incremental rebuilds after a one-property spec edit, against a no-op build.
fn rebuild(tools: &Tools, reps: usize) -> anyhow::Result<Vec<Figure>> {
    let noop = no_op_build_seconds(tools, reps)?;
    let times = tools.rebuild_seconds(reps)?;
    let client = Spread::over(&times, |(client, _)| *client);
    let api = Spread::over(&times, |(_, api)| *api);
    Ok(vec![
        Figure::new("tooling", "no-op `cargo build -p rainbond-client`", "s", noop),
        Figure::new("tooling", "rebuild rainbond-client after a one-property edit", "s", client)
            .ratio_to("no-op build", noop),
        Figure::new("tooling", format!("rebuild {} after a one-property edit", tools.api_package()), "s", api)
            .ratio_to("no-op build", noop),
    ])
}

fn no_op_build_seconds(tools: &Tools, reps: usize) -> anyhow::Result<Spread> {
    let build = || {
        let mut command = Command::new(&tools.cargo);
        command.args(["build", "--quiet", "-p", "rainbond-client"]).current_dir(&tools.root);
        measure(&mut command, &[0])
    };
    build()?;
    let runs = (0..reps).map(|_| build()).collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Spread::over(&runs, |run| run.wall.as_secs_f64()))
}
