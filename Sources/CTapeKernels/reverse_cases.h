// The reverse rules, one case per opcode: included by sweep_template.h once per combination of
// the first-contribution flags (first_da, first_db, first_dc, compile-time constants there).
// No include guard: it is meant to be included many times.
        switch ((tv_opcode)in.op) {
        case TV_INPUT: case TV_PARAM: case TV_CONST: case TV_OPCODE_COUNT:
        case TV_LT: case TV_LE: case TV_GT: case TV_GE: case TV_EQ: case TV_NE:
            break;
        case TV_NEG:    TV_BLOCKS(i, tile) ACC(da, i, -ld(gy + i)); break;
        case TV_RECIP:  TV_BLOCKS(i, tile) { v8d y = ld(py + i); ACC(da, i, -(ld(gy + i) * y * y)); } break;
        case TV_SQUARE: TV_BLOCKS(i, tile) ACC(da, i, ld(gy + i) * (splat(2.0) * ld(pa + i))); break;
        case TV_SQRT:   TV_BLOCKS(i, tile) ACC(da, i, ld(gy + i) / (splat(2.0) * ld(py + i))); break;
        case TV_EXP:    TV_BLOCKS(i, tile) ACC(da, i, ld(gy + i) * ld(py + i)); break;
        case TV_LOG:    TV_BLOCKS(i, tile) ACC(da, i, ld(gy + i) / ld(pa + i)); break;
        case TV_SIGMOID: TV_BLOCKS(i, tile) { v8d y = ld(py + i); ACC(da, i, ld(gy + i) * (y * (one - y))); } break;
        case TV_TANH:   TV_BLOCKS(i, tile) { v8d y = ld(py + i); ACC(da, i, ld(gy + i) * (one - y * y)); } break;
        case TV_SIN:    TV_BLOCKS(i, tile) ACC(da, i, ld(gy + i) * VCOS(ld(pa + i))); break;
        case TV_COS:    TV_BLOCKS(i, tile) ACC(da, i, -(ld(gy + i) * VSIN(ld(pa + i)))); break;
        case TV_ABS:    TV_BLOCKS(i, tile) {
                v8d a = ld(pa + i), g = ld(gy + i);
                ACC(da, i, sel(a > zero, g, sel(a < zero, -g, sel(a == zero, zero, a))));
            } break;
        case TV_RELU:   TV_BLOCKS(i, tile) {
                v8d a = ld(pa + i), g = ld(gy + i);
                ACC(da, i, sel(a > zero, g, sel(a == a, zero, a)));
            } break;
        case TV_SOFTPLUS: TV_BLOCKS(i, tile) {
                v8d a = ld(pa + i);
                ACC(da, i, ld(gy + i) * (one / (one + VEXP(-a))));
            } break;
        case TV_LOG1P:  TV_BLOCKS(i, tile) ACC(da, i, ld(gy + i) / (one + ld(pa + i))); break;
        case TV_EXPM1:  TV_BLOCKS(i, tile) ACC(da, i, ld(gy + i) * (ld(py + i) + one)); break;
        case TV_POWI: { const int n = (int)in.imm; const v8d kn = splat(in.imm);
                if (n == 0) { TV_BLOCKS(i, tile) ACC(da, i, zero); break; }
                TV_BLOCKS(i, tile) ACC(da, i, ld(gy + i) * (kn * vpowi(ld(pa + i), n - 1))); break; }
        case TV_ADD: TV_BLOCKS(i, tile) { v8d g = ld(gy + i); ACC(da, i, g); ACC(db, i, g); } break;
        case TV_SUB: TV_BLOCKS(i, tile) { v8d g = ld(gy + i); ACC(da, i, g); ACC(db, i, -g); } break;
        case TV_MUL: TV_BLOCKS(i, tile) {
                v8d g = ld(gy + i), a = ld(pa + i), b = ld(pb + i);
                v8d ga = g * b, gb = g * a;
                ACC(da, i, ga); ACC(db, i, gb);
            } break;
        case TV_DIV: TV_BLOCKS(i, tile) {
                v8d g = ld(gy + i), b = ld(pb + i), y = ld(py + i);
                v8d ga = g / b, gb = -(g * y / b);
                ACC(da, i, ga); ACC(db, i, gb);
            } break;
        case TV_POW: TV_BLOCKS(i, tile) {
                v8d g = ld(gy + i), a = ld(pa + i), b = ld(pb + i), y = ld(py + i);
                v8d ga = sel(b == zero, zero, g * (b * VPOW(a, b - one)));
                v8d gb = sel(a == zero, zero, g * (VLOG(a) * y));
                ACC(da, i, ga); ACC(db, i, gb);
            } break;
        case TV_MAX: TV_BLOCKS(i, tile) {
                v8d g = ld(gy + i), a = ld(pa + i), b = ld(pb + i);
                v8d tie = sel(a == b, half * g, a + b);
                v8d ga = sel(a > b, g, sel(a < b, zero, tie));
                v8d gb = sel(b > a, g, sel(b < a, zero, tie));
                ACC(da, i, ga); ACC(db, i, gb);
            } break;
        case TV_MIN: TV_BLOCKS(i, tile) {
                v8d g = ld(gy + i), a = ld(pa + i), b = ld(pb + i);
                v8d tie = sel(a == b, half * g, a + b);
                v8d ga = sel(a < b, g, sel(a > b, zero, tie));
                v8d gb = sel(b < a, g, sel(b > a, zero, tie));
                ACC(da, i, ga); ACC(db, i, gb);
            } break;
        case TV_LOGADDEXP: TV_BLOCKS(i, tile) {
                v8d g = ld(gy + i), a = ld(pa + i), b = ld(pb + i);
                v8l tie = a == b;
                v8d ga = sel(tie, half * g, g / (one + VEXP(b - a)));
                v8d gb = sel(tie, half * g, g / (one + VEXP(a - b)));
                ACC(da, i, ga); ACC(db, i, gb);
            } break;
        case TV_SELECT: TV_BLOCKS(i, tile) {
                v8d g = ld(gy + i), a = ld(pa + i);
                v8d ga = zero;
                v8d gb = sel((a != zero) & (a == a), g, zero);
                v8d gc = sel(a == zero, g, zero);
                ACC(da, i, ga); ACC(db, i, gb); ACC(dc, i, gc);
            } break;
        case TV_MULADD: TV_BLOCKS(i, tile) {
                v8d g = ld(gy + i), a = ld(pa + i), b = ld(pb + i);
                v8d ga = g * b, gb = g * a;
                ACC(da, i, ga); ACC(db, i, gb); ACC(dc, i, g);
            } break;
        case TV_ADDK: TV_BLOCKS(i, tile) ACC(da, i, ld(gy + i)); break;
        case TV_MULK: { const v8d k = splat(in.imm); TV_BLOCKS(i, tile) ACC(da, i, ld(gy + i) * k); break; }
        case TV_RSUBK: TV_BLOCKS(i, tile) ACC(da, i, -ld(gy + i)); break;
        case TV_DIVK: { const v8d k = splat(in.imm); TV_BLOCKS(i, tile) ACC(da, i, ld(gy + i) / k); break; }
        case TV_RDIVK: TV_BLOCKS(i, tile) ACC(da, i, -(ld(gy + i) * ld(py + i) / ld(pa + i))); break;
        case TV_SQDIFF: { const v8d two = splat(2.0);
                TV_BLOCKS(i, tile) {
                    v8d c = ld(gy + i) * (two * (ld(pa + i) - ld(pb + i)));
                    ACC(da, i, c); ACC(db, i, -c);
                } break; }
        case TV_MULKADD: { const v8d k = splat(in.imm);
                TV_BLOCKS(i, tile) {
                    v8d g = ld(gy + i);
                    v8d ga = g * k;
                    ACC(da, i, ga); ACC(db, i, g);
                } break; }
        case TV_SQDIFFK: { const v8d k = splat(in.imm), two = splat(2.0);
                TV_BLOCKS(i, tile) ACC(da, i, -(ld(gy + i) * (two * (k - ld(pa + i))))); break; }
        }
