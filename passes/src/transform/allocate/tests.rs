//! Unit tests of the allocation: channel factors, the search, stream words, budgets.

use super::*;
use crate::ir::{Instance, InstanceId, LoopVarId, NodeId, TensorId};

fn nest(channels: u64) -> MacNest {
    MacNest {
        node: NodeId::new(0),
        path: vec![0],
        channel_var: LoopVarId(0),
        channels,
        window: 9,
        outputs: 1,
    }
}

#[test]
fn channel_factors_are_powers_of_two_dividing_the_channels() {
    assert_eq!(nest(96).factors(), vec![96, 32, 16, 8, 4, 2, 1]);
    assert_eq!(nest(3).factors(), vec![3, 1]);
    assert_eq!(nest(64).factors(), vec![64, 32, 16, 8, 4, 2, 1]);
}

fn stage(name: &str, choices: &[(u64, f64)]) -> Stage {
    let inst = Instance::new(
        name.into(),
        name.into(),
        String::new(),
        crate::Span::default(),
    );
    Stage {
        id: InstanceId(0),
        name: name.into(),
        copies: 1,
        written: false,
        nests: Vec::new(),
        choices: choices
            .iter()
            .map(|&(cycles, dsp)| Choice {
                cpf: Vec::new(),
                how: Sharing::Interval,
                realized: std::sync::Arc::new(inst.clone()),
                cycles,
                dsp,
                lut: 0,
                weight_bram: 0,
                act_bram: 0,
                ddr_cycles: cycles,
                ddr_bram: 0,
                ddr_bytes: 0,
                width: 1,
                kpf: 1,
                lanes: 1,
            })
            .collect(),
        out_stream: None,
        in_streams: Vec::new(),
    }
}

const DEV: Device = Device {
    part: "test",
    board: "test",
    dsp: 100,
    bram18: 100,
    lut: 1000,
    ddr_gbps: 10.0,
};

#[test]
fn fastest_interval_is_the_slowest_stage_at_its_largest_parallelism() {
    let stages = [
        stage("a", &[(100, 10.0), (200, 5.0), (400, 2.0)]),
        stage("b", &[(150, 4.0), (300, 2.0)]),
    ];
    let a = search(&stages, &DEV, 5.0, AllocOptions::default());
    assert_eq!(a.interval, 150);
    assert_eq!(a.bound, Bound::Stage(1));
    // Stage a takes its cheapest choice within 150 cycles.
    assert_eq!(a.picks, vec![0, 0]);
    assert!(a.fits);
}

#[test]
fn a_producer_widens_its_stream_when_its_consumer_needs_it() {
    // a writes 1000 values to b, which reads them one a cycle within its 1200 cycles;
    // words of 4 (10 LUTs more for a) save b 750 of them.
    let mut a = stage("a", &[(500, 1.0)]);
    let mut wide = a.choices[0].clone();
    wide.width = 4;
    wide.lut = 10;
    a.choices.push(wide);
    a.out_stream = Some(OutStream {
        channel: TensorId(0),
        consumer: 1,
        values: 1000,
    });
    let mut b = stage("b", &[(1200, 2.0)]);
    b.in_streams.push((0, 1000));
    let stages = [a, b];
    let alloc = search(&stages, &DEV, 5.0, AllocOptions::default());
    // b at 1200 - 750 = 450 cycles with a's words of 4: a's 500 cycles set the pace.
    assert_eq!(alloc.picks, vec![1, 0]);
    assert_eq!(alloc.cycles, vec![500, 450]);
    assert_eq!(alloc.interval, 500);
    // Without the wide variant, b's 1200 cycles are the interval.
    let narrow = [stage("a", &[(500, 1.0)]), stage("b", &[(1200, 2.0)])];
    assert_eq!(
        search(&narrow, &DEV, 5.0, AllocOptions::default()).interval,
        1200
    );
}

#[test]
fn a_small_budget_slows_the_network_and_names_the_dsps() {
    let stages = [
        stage("a", &[(100, 10.0), (200, 5.0), (400, 2.0)]),
        stage("b", &[(150, 4.0), (300, 2.0)]),
    ];
    let opts = AllocOptions {
        budget: 0.07,
        ..AllocOptions::default()
    };
    let a = search(&stages, &DEV, 5.0, opts);
    // 7 DSPs: a at 200 cycles (5) and b at 300 (2).
    assert_eq!(a.interval, 300);
    assert_eq!(a.picks, vec![1, 1]);
    assert_eq!(a.bound, Bound::Dsp);
    // A target rate takes the least hardware that meets it.
    let slow = AllocOptions {
        target_fps: Some(1e9 / (400.0 * 5.0)),
        ..AllocOptions::default()
    };
    let a = search(&stages, &DEV, 5.0, slow);
    assert_eq!(a.picks, vec![2, 1]);
    assert_eq!(a.bound, Bound::Target);
}

#[test]
fn a_ddr_word_is_the_element_rounded_up_to_a_power_of_two_of_bytes() {
    use kiln_numeric::ScalarType;
    assert_eq!(super::word_bytes(&ScalarType::int(8)), 1);
    assert_eq!(super::word_bytes(&ScalarType::int(16)), 2);
    assert_eq!(super::word_bytes(&ScalarType::int(24)), 4);
    assert_eq!(super::word_bytes(&ScalarType::int(33)), 8);
    assert_eq!(super::word_bytes(&ScalarType::Bin), 1);
    assert_eq!(super::word_bytes(&ScalarType::Tern), 1);
}
