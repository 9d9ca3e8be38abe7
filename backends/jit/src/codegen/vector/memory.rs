//! Loads and stores of `VF` contiguous elements (full registers, or one 4- or 8-byte part).

use crate::codegen::gen::Gen;
use crate::codegen::vector::emitter::Emitter;
use crate::codegen::vector::value::{lanes_flags, local_rep, rep_vty};
use crate::layout::store_of;
use cranelift_codegen::ir::{types, InstBuilder, MemFlagsData, Value as CValue};
use kiln_numeric::ScalarType;

impl Emitter<'_> {
    pub(crate) fn load(&mut self, g: &mut Gen, addr: CValue, elem: &ScalarType) -> Vec<CValue> {
        let rep = local_rep(elem);
        let ty = rep_vty(rep);
        let bytes = self.vf() as usize * store_of(elem).expect("plan checked").bytes();
        let f = MemFlagsData::new().with_notrap();
        if bytes >= 16 {
            (0..bytes / 16)
                .map(|k| g.b.ins().load(ty, f, addr, 16 * k as i32))
                .collect()
        } else {
            let (sty, vty_) = if bytes == 8 {
                (types::I64, types::I64X2)
            } else {
                (types::I32, types::I32X4)
            };
            let s = g.b.ins().load(sty, f, addr, 0);
            let v = g.b.ins().scalar_to_vector(vty_, s);
            vec![g.b.ins().bitcast(ty, lanes_flags(), v)]
        }
    }

    pub(crate) fn store(
        &mut self,
        g: &mut Gen,
        addr: CValue,
        elem: &ScalarType,
        regs: Vec<CValue>,
    ) {
        let bytes = self.vf() as usize * store_of(elem).expect("plan checked").bytes();
        let f = MemFlagsData::new().with_notrap();
        if bytes >= 16 {
            for (k, r) in regs.into_iter().enumerate() {
                g.b.ins().store(f, r, addr, 16 * k as i32);
            }
        } else {
            let (sty, vty_) = if bytes == 8 {
                (types::I64, types::I64X2)
            } else {
                (types::I32, types::I32X4)
            };
            let v = g.b.ins().bitcast(vty_, lanes_flags(), regs[0]);
            let s = g.b.ins().extractlane(v, 0);
            debug_assert_eq!(g.b.func.dfg.value_type(s), sty);
            g.b.ins().store(f, s, addr, 0);
        }
    }
}
