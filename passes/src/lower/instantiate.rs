//! Kernel instances: one per kernel and binding of its sizes, element types, `const`
//! parameters and constant arguments (memoized), with the chain of instantiations in
//! progress for diagnostics. Binding checks each argument against its parameter's declared
//! shape and type. How a kernel's body becomes a graph is graph.rs's business.

use super::*;
use kiln_lang::hir::{Dim, ElemRef};
use kiln_lang::sym::SizeExpr;

impl ModuleBuilder<'_> {
    pub(super) fn note_chain(&self, mut d: Diagnostic) -> Diagnostic {
        // The first entry is the entry kernel itself (its site is its own header): no label.
        for (what, site) in self.chain.iter().skip(1).rev() {
            if d.span != Some(*site) {
                d = d.with_secondary(*site, format!("in {what}"));
            }
        }
        d
    }

    pub(super) fn error(&mut self, d: Diagnostic) {
        let d = self.note_chain(d);
        self.diags.push(d);
    }

    /// An error about an argument: at the call site, pointing at the parameter's
    /// declaration; for the entry kernel (whose "call site" is its own header), at the
    /// declaration.
    pub(super) fn arg_error(&mut self, site: Span, decl: Span, header: Span, d: Diagnostic) {
        let d = if site == header {
            Diagnostic {
                span: Some(decl),
                secondary: Vec::new(),
                ..d
            }
        } else if d.secondary.is_empty() {
            d.with_secondary(decl, "parameter declared here")
        } else {
            d
        };
        self.error(d);
    }

    pub(super) fn unique_name(&mut self, base: &str) -> String {
        let n = self.names.entry(base.to_string()).or_insert(0);
        *n += 1;
        if *n == 1 {
            base.to_string()
        } else {
            format!("{base}_{}", *n - 1)
        }
    }

    /// Instantiates kernel `kid` (memoized). `site` is the call site (or the kernel header
    /// for the entry).
    pub(super) fn instantiate(
        &mut self,
        kid: hir::KernelId,
        params: Vec<Binding>,
        type_args: Vec<ScalarType>,
        site: Span,
    ) -> Option<InstanceId> {
        let key = InstanceKey {
            kernel: kid,
            params: params.clone(),
            type_args: type_args.clone(),
        };
        if let Some(r) = self.memo.get(&key) {
            return *r;
        }
        let k = &self.inputs.program.kernels[kid];
        if self.chain.len() > 64 {
            self.error(
                Diagnostic::error(codes::RECURSION, "kernel calls nest too deeply").at(site),
            );
            return None;
        }
        let mut env = Env {
            sizes: vec![None; k.size_vars.len()],
            shapes: vec![None; k.shape_vars.len()],
            consts: HashMap::new(),
            types: vec![None; k.type_vars.len()],
            loops: HashMap::new(),
        };
        for (i, t) in type_args.iter().enumerate() {
            env.types[i] = Some(*t);
        }
        let before = self.diags.error_count();
        // Bind const parameters first (dims may use them), then shapes and types.
        for (i, (p, b)) in k.params.iter().zip(&params).enumerate() {
            if let KParamKind::Const = p.kind {
                let v = match b {
                    Binding::Const(v) => Some(*v),
                    _ => match &p.default {
                        Some(hir::ParamDefault::Const(s)) => s.eval(&env).ok(),
                        _ => None,
                    },
                };
                match v {
                    Some(v) => {
                        env.consts.insert(i, v);
                    }
                    None => {
                        self.error(
                            Diagnostic::error(
                                codes::NOT_CONSTANT,
                                format!("no value for `const` parameter `{}`", p.name),
                            )
                            .at(site),
                        );
                        return None;
                    }
                }
            }
        }
        for (p, b) in k.params.iter().zip(&params) {
            if let (KParamKind::Value(t), Binding::Value { shape, elem, .. }) = (&p.kind, b) {
                self.bind_param(k, &p.name, t, shape, *elem, &mut env, site);
            }
        }
        let mut params = params;
        for (p, b) in k.params.iter().zip(params.iter_mut()) {
            if let (KParamKind::Value(t), Binding::Output) = (&p.kind, &b) {
                let shape: Option<Vec<usize>> =
                    t.shape
                        .iter()
                        .flatten()
                        .try_fold(Vec::new(), |mut shape, d| {
                            match d {
                                Dim::Size(s) => {
                                    shape.push(usize::try_from(s.eval(&env).ok()?).ok()?)
                                }
                                Dim::Rest(v) => shape.extend(env.shapes[*v].clone()?),
                            }
                            Some(shape)
                        });
                let Some(shape) = shape else {
                    self.error(
                        Diagnostic::error(
                            codes::MISSING_INPUT,
                            format!("the shape of output parameter `{}` is not known", p.name),
                        )
                        .at(p.span)
                        .help(format!("its sizes are bound by no other parameter: give it with `--input {}=FILE.npy` (its values are not read)", p.name)),
                    );
                    return None;
                };
                *b = Binding::Value {
                    elem: None,
                    shape,
                    constant: None,
                    range: None,
                };
            }
        }
        let bindings_text = bindings_text(k, &env);
        if self.diags.error_count() > before {
            self.memo.insert(key, None);
            return None;
        }
        let what = if bindings_text.is_empty() {
            format!("`{}`", k.name)
        } else {
            format!("`{}` with {}", k.name, bindings_text)
        };
        self.chain.push((what, site));
        let name = self.unique_name(&k.name);
        let inst = Instance::new(name, k.name.clone(), bindings_text, k.span);
        let mut lw = Lowerer {
            mb: self,
            k,
            inst,
            env,
            params: Vec::new(),
            tensor_locals: HashMap::new(),
            scalar_versions: HashMap::new(),
            last_writer: HashMap::new(),
            readers: HashMap::new(),
            globals: HashMap::new(),
            table_tensors: HashMap::new(),
            list_tensors: HashMap::new(),
            implicit_floats: Vec::new(),
            jumps: Vec::new(),
            node: None,
            hoisted: HashMap::new(),
            failed: false,
            probing_affine: false,
            loop_ranges: HashMap::new(),
            base_scope: Scope::default(),
        };
        let result = lw.lower_kernel(&params);
        let inst = lw.inst;
        self.chain.pop();
        let id = match result {
            Some(()) if self.diags.error_count() == before => {
                self.module.instances.push(inst);
                Some(InstanceId(self.module.instances.len() as u32 - 1))
            }
            _ => None,
        };
        self.memo.insert(key, id);
        id
    }

    /// Binds size, shape and type variables from one argument.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn bind_param(
        &mut self,
        k: &hir::Kernel,
        pname: &str,
        t: &hir::TypeRef,
        shape: &[usize],
        elem: Option<ScalarType>,
        env: &mut Env,
        site: Span,
    ) {
        if let (ElemRef::Var(v), Some(e)) = (&t.elem, elem) {
            match env.types[*v] {
                None => env.types[*v] = Some(e),
                Some(prev) if prev != e => {
                    self.arg_error(site, t.span, k.span,
                        Diagnostic::error(
                            codes::TYPE_MISMATCH,
                            format!("type variable `{}` is {prev} from an earlier argument but {e} from `{pname}`", k.type_vars[*v].name),
                        )
                        .at(site)
                        .help("convert one of the arguments, or give the type explicitly: `kernel[T](...)`"),
                    );
                }
                _ => {}
            }
        }
        let Some(dims) = &t.shape else {
            if !shape.is_empty() {
                self.arg_error(
                    site,
                    t.span,
                    k.span,
                    Diagnostic::error(
                        codes::KIND_MISMATCH,
                        format!(
                            "`{pname}` is a scalar parameter but gets a tensor of shape {shape:?}"
                        ),
                    )
                    .at(site),
                );
            }
            return;
        };
        let rest = dims.iter().position(|d| matches!(d, Dim::Rest(_)));
        let fixed_dims = dims.len() - usize::from(rest.is_some());
        if (rest.is_none() && shape.len() != dims.len())
            || (rest.is_some() && shape.len() < fixed_dims)
        {
            self.arg_error(
                site,
                t.span,
                k.span,
                Diagnostic::error(
                    codes::SHAPE_MISMATCH,
                    format!(
                        "`{pname}` expects rank {}, got shape {:?}",
                        dims.len(),
                        shape
                    ),
                )
                .at(site)
                .with_secondary(t.span, "declared here"),
            );
            return;
        }
        let mut si = 0;
        let mut deferred = Vec::new();
        for (di, d) in dims.iter().enumerate() {
            match d {
                Dim::Rest(v) => {
                    let take = shape.len() - (dims.len() - di - 1) - si;
                    let part = shape[si..si + take].to_vec();
                    si += take;
                    match &env.shapes[*v] {
                        None => env.shapes[*v] = Some(part),
                        Some(prev) if *prev != part => {
                            self.arg_error(site, t.span, k.span,
                                Diagnostic::error(
                                    codes::SIZE_CONFLICT,
                                    format!("`*{}` is {:?} from an earlier argument but {:?} from `{pname}`", k.shape_vars[*v].name, prev, part),
                                )
                                .at(site),
                            );
                        }
                        _ => {}
                    }
                }
                Dim::Size(SizeExpr::Var(v)) => {
                    let val = shape[si] as i64;
                    si += 1;
                    match env.sizes[*v] {
                        None => env.sizes[*v] = Some(val),
                        Some(prev) if prev != val => {
                            self.arg_error(site, t.span, k.span,
                                Diagnostic::error(
                                    codes::SIZE_CONFLICT,
                                    format!("size `{}` is {prev} from an earlier argument but {val} from `{pname}`", k.size_vars[*v].name),
                                )
                                .at(site).with_secondary(t.span, format!("`{pname}` declared here")),
                            );
                        }
                        _ => {}
                    }
                }
                Dim::Size(s) => {
                    deferred.push((s.clone(), shape[si]));
                    si += 1;
                }
            }
        }
        for (s, actual) in deferred {
            if let Ok(want) = s.eval(env) {
                if want != actual as i64 {
                    self.arg_error(
                        site,
                        t.span,
                        k.span,
                        Diagnostic::error(
                            codes::SHAPE_MISMATCH,
                            format!("`{pname}` needs a dimension of {want} here, got {actual}"),
                        )
                        .at(site)
                        .with_secondary(t.span, "declared here"),
                    );
                }
            }
        }
    }
}

impl Lowerer<'_, '_, '_> {
    /// Lowers the kernel into the instance: its parameters, then its body.
    pub(super) fn lower_kernel(&mut self, bindings: &[Binding]) -> L<()> {
        let k = self.k;
        for (i, (p, b)) in k.params.iter().zip(bindings).enumerate() {
            let slot = match &p.kind {
                KParamKind::Const => ParamSlot::Const(*self.env.consts.get(&i)?),
                KParamKind::Value(t) => ParamSlot::Tensor(self.param_tensor(i, p, t, b)?),
            };
            self.params.push(slot);
        }
        // Output parameters: a tensor of their own, starting from the input's values when
        // the body also reads them.
        for (i, p) in k.params.iter().enumerate() {
            let (Some(l), ParamSlot::Tensor(input)) = (p.local, &self.params[i]) else {
                continue;
            };
            let input = *input;
            let tm = self.inst.tensor(input).clone();
            let t = if p.output_only() {
                input
            } else {
                let t = self.new_tensor(&p.name, tm.elem, tm.shape, TensorKind::Temp, true, p.span);
                self.copy_tensor(t, input, &p.name, p.span);
                t
            };
            self.tensor_locals.insert(l, t);
        }
        // Body.
        let reads_later = hir::LaterReads::of(&k.body);
        for (i, s) in k.body.iter().enumerate() {
            self.top_stmt(s, &reads_later.at(i));
            if self.failed {
                return None;
            }
        }
        if self.inst.outputs.len() != k.results.len() {
            return None;
        }
        // Then the output parameters' final contents, in parameter order.
        let mut index = k.results.len();
        for p in &k.params {
            let Some(l) = p.local else {
                continue;
            };
            let t = *self.tensor_locals.get(&l)?;
            if p.output_only() && !self.last_writer.contains_key(&t) {
                self.err(
                    Diagnostic::error(
                        codes::OUTPUT_INCOMPLETE,
                        format!("output parameter `{}` is never written", p.name),
                    )
                    .at(p.span),
                );
                return None;
            }
            self.add_output(t, index);
            index += 1;
        }
        Some(())
    }

    /// The tensor of value parameter `i` bound by `b`: its constant data, or an input.
    pub(super) fn param_tensor(
        &mut self,
        i: usize,
        p: &hir::KParam,
        t: &hir::TypeRef,
        b: &Binding,
    ) -> L<TensorId> {
        let Binding::Value {
            elem,
            shape,
            constant,
            range: arg_range,
        } = b
        else {
            return None;
        };
        let declared = self.elem_type(&t.elem, p.span);
        let elem = match (declared, elem) {
            (Some(d), _) => d,
            (None, Some(e)) => *e,
            (None, None) => {
                self.err(
                    Diagnostic::error(
                        codes::CANNOT_INFER,
                        format!("no element type for `{}`", p.name),
                    )
                    .at(p.span),
                );
                return None;
            }
        };
        if let Some(c) = constant {
            return Some(self.const_tensor(*c, &p.name, elem, shape.clone(), p.span));
        }
        if p.output_only() {
            // Not an input: the kernel writes it before anything reads it.
            return Some(self.new_tensor(
                &p.name,
                elem,
                shape.clone(),
                TensorKind::Temp,
                true,
                p.span,
            ));
        }
        let input_index = self.inst.inputs.len();
        let t = self.new_tensor(
            &p.name,
            elem,
            shape.clone(),
            TensorKind::Input(input_index),
            true,
            p.span,
        );
        self.inst.inputs.push(t);
        self.inst.tensor_mut(t).range = arg_range.clone();
        let n = self.inst.graph.add_node(Node::Input {
            tensor: t,
            param: i,
        });
        self.last_writer.insert(t, n);
        Some(t)
    }
}

/// The bindings of an instance as text (`N=4, T=fixed<8, 4>`): sizes, types, `const`s.
fn bindings_text(k: &hir::Kernel, env: &Env) -> String {
    let mut parts = Vec::new();
    for (i, v) in k.size_vars.iter().enumerate() {
        if let Some(s) = env.sizes[i] {
            parts.push(format!("{}={s}", v.name));
        }
    }
    for (i, v) in k.type_vars.iter().enumerate() {
        if let Some(t) = &env.types[i] {
            parts.push(format!("{}={t}", v.name));
        }
    }
    for (i, p) in k.params.iter().enumerate() {
        if let Some(c) = env.consts.get(&i) {
            parts.push(format!("{}={c}", p.name));
        }
    }
    parts.join(", ")
}
